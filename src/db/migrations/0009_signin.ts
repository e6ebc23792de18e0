import { type Kysely, sql } from 'kysely';

// The embedded OpenID Connect provider (src/signin/, docs/signin.md): passwords, single-use links, the slowing of
// failed sign-ins, the organization each grant is for, the registered relying parties, and the provider's own
// records (sessions, codes, tokens, grants), so that a restart keeps sessions and replicas share them.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table signin_credential (
      account_id text primary key,
      password_hash text not null,
      updated_at timestamptz not null default now()
    )`.execute(db);
  // Only the SHA-256 of a link's token is kept: a database reader cannot use a link it finds.
  await sql`
    create table signin_link (
      id text primary key,
      token_hash text not null unique,
      account_id text not null,
      identity_organization_id text,
      purpose text not null check (purpose in ('invitation', 'reset')),
      expires_at timestamptz not null,
      used_at timestamptz,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index signin_link_account on signin_link (account_id) where used_at is null`.execute(db);
  await sql`create index signin_link_expires on signin_link (expires_at)`.execute(db);
  await sql`
    create table signin_throttle (
      key text primary key,
      failures integer not null,
      first_failure_at timestamptz not null,
      blocked_until timestamptz not null
    )`.execute(db);
  await sql`create index signin_throttle_first_failure on signin_throttle (first_failure_at)`.execute(db);
  await sql`
    create table signin_grant (
      grant_id text primary key,
      account_id text not null,
      identity_organization_id text not null,
      expires_at timestamptz not null
    )`.execute(db);
  await sql`create index signin_grant_expires on signin_grant (expires_at)`.execute(db);
  await sql`
    create table signin_client (
      id text primary key,
      redirect_uris text[] not null,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`
    create table oidc_payload (
      model text not null,
      id text not null,
      payload jsonb not null,
      grant_id text,
      uid text,
      user_code text,
      expires_at timestamptz,
      consumed_at timestamptz,
      primary key (model, id)
    )`.execute(db);
  await sql`create index oidc_payload_grant on oidc_payload (grant_id) where grant_id is not null`.execute(
    db,
  );
  await sql`create index oidc_payload_uid on oidc_payload (uid) where uid is not null`.execute(db);
  await sql`create index oidc_payload_user_code on oidc_payload (user_code) where user_code is not null`.execute(
    db,
  );
  await sql`create index oidc_payload_expires on oidc_payload (expires_at) where expires_at is not null`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'oidc_payload',
    'signin_client',
    'signin_grant',
    'signin_throttle',
    'signin_link',
    'signin_credential',
  ]) {
    await sql`drop table ${sql.id(table)}`.execute(db);
  }
}
