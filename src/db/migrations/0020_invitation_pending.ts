import { type Kysely, sql } from 'kysely';

// A rep added by the bulk add without its invitation (`sendInvitations=false`) is marked until the invitation is
// sent ("Send invitations", src/salesreps/). A column with a constant default rewrites no row; the partial index
// holds only the marked reps, which the sending reads oldest first.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table organization_sales_rep add column invitation_pending boolean not null default false`.execute(
    db,
  );
  await sql`
    create index organization_sales_rep_invitation_pending on organization_sales_rep (organization_id, created_at, id)
      where invitation_pending`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index organization_sales_rep_invitation_pending`.execute(db);
  await sql`alter table organization_sales_rep drop column invitation_pending`.execute(db);
}
