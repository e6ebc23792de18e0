import { type Kysely, sql } from 'kysely';

// Enterprise connections, set up and kept up (docs/sso.md): the single-use setup links an Admin gives an
// organization's IT admin (only the token's SHA-256 kept; the connection id it will set, reserved so that the SAML
// addresses it shows stay), the test sign-ins under way (as `sso_sign_in`, for no interaction), and a SAML
// connection's metadata URL with when it was last fetched, so that its certificates are read again.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table sso_setup_link (
      id text primary key,
      organization_id text not null references organization (id) on delete cascade,
      token_hash text not null unique,
      connection_id text not null,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      used_at timestamptz,
      voided_at timestamptz
    )`.execute(db);
  await sql`create index sso_setup_link_organization on sso_setup_link (organization_id)`.execute(db);
  await sql`create index sso_setup_link_connection on sso_setup_link (connection_id)`.execute(db);
  await sql`create index sso_setup_link_expires on sso_setup_link (expires_at)`.execute(db);
  await sql`
    create table sso_test_sign_in (
      state_hash text primary key,
      connection_id text not null references sso_connection (id) on delete cascade,
      code_verifier text not null,
      nonce text not null,
      expires_at timestamptz not null
    )`.execute(db);
  await sql`create index sso_test_sign_in_expires on sso_test_sign_in (expires_at)`.execute(db);
  await sql`alter table sso_connection add column saml_metadata_url text`.execute(db);
  await sql`alter table sso_connection add column saml_metadata_fetched_at timestamptz`.execute(db);
  await sql`alter table sso_connection add column saml_metadata_failure_refresh_at timestamptz`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table sso_connection drop column saml_metadata_failure_refresh_at`.execute(db);
  await sql`alter table sso_connection drop column saml_metadata_fetched_at`.execute(db);
  await sql`alter table sso_connection drop column saml_metadata_url`.execute(db);
  await sql`drop table sso_test_sign_in`.execute(db);
  await sql`drop table sso_setup_link`.execute(db);
}
