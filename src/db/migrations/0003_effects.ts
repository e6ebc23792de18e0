import { type Kysely, sql } from 'kysely';

// The effect workers' lease on an effect, and the local identity provider's own tables.
export async function up(db: Kysely<unknown>): Promise<void> {
  // A claimed effect stays 'pending' with a lease: a worker that dies mid-effect leaves a lease that runs out, and
  // the effect is claimed again. The token makes a late finish of an expired lease a no-op.
  await sql`alter table effect add column lease_until timestamptz, add column lease_token text,
    add column outcome text`.execute(db);

  await sql`
    create table idp_account (
      id text primary key,
      email text not null,
      first_name text not null,
      last_name text not null,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`
    create table idp_membership (
      account_id text not null references idp_account (id) on delete cascade,
      identity_organization_id text not null,
      roles text[] not null,
      created_at timestamptz not null default now(),
      primary key (account_id, identity_organization_id)
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table idp_membership`.execute(db);
  await sql`drop table idp_account`.execute(db);
  await sql`alter table effect drop column lease_until, drop column lease_token, drop column outcome`.execute(
    db,
  );
}
