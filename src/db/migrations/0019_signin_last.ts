import { type Kysely, sql } from 'kysely';

// When each person last signed in to each organization through the embedded sign-in (docs/signin.md): what the
// admin's list shows as "Signed in · 2 h ago" (`include=signIn`, docs/api.md). One row per account and
// organization, written with the sign-in's grant and event, read by its key for the reps of one page only. The
// row goes with the account.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table signin_last (
      account_id text not null references idp_account (id) on delete cascade,
      identity_organization_id text not null,
      signed_in_at timestamptz not null,
      primary key (account_id, identity_organization_id)
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table signin_last`.execute(db);
}
