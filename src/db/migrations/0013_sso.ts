import { type Kysely, sql } from 'kysely';

// Enterprise single sign-on (src/sso/, docs/sso.md): an organization's one connection to its own identity
// provider, the email domains it serves (each by one organization only), the IdP subjects remembered per
// connection, and the sign-ins under way (state, nonce and PKCE verifier of one browser round trip). The
// connection's row fits either protocol: an OpenID Connect issuer, client id and encrypted client secret, or a
// SAML IdP as parsed from its metadata (`saml_idp`, JSON). The secret is AES-256-GCM ciphertext under a key that
// is not in the database.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table sso_connection (
      id text primary key,
      organization_id text not null unique references organization (id) on delete cascade,
      protocol text not null check (protocol in ('oidc', 'saml')),
      issuer text,
      client_id text,
      client_secret_encrypted text,
      saml_idp jsonb,
      password_sign_in boolean not null default false,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      check (protocol <> 'oidc' or (issuer is not null and client_id is not null and client_secret_encrypted is not null)),
      check (protocol <> 'saml' or saml_idp is not null)
    )`.execute(db);
  await sql`
    create table sso_domain (
      domain text primary key,
      connection_id text not null references sso_connection (id) on delete cascade
    )`.execute(db);
  await sql`create index sso_domain_connection on sso_domain (connection_id)`.execute(db);
  await sql`
    create table sso_subject (
      connection_id text not null references sso_connection (id) on delete cascade,
      subject text not null,
      account_id text not null,
      created_at timestamptz not null default now(),
      primary key (connection_id, subject)
    )`.execute(db);
  // One subject per person and connection: another IdP user with the same email is not that person.
  await sql`create unique index sso_subject_account on sso_subject (account_id, connection_id)`.execute(db);
  await sql`
    create table sso_sign_in (
      state_hash text primary key,
      connection_id text not null references sso_connection (id) on delete cascade,
      interaction_uid text not null,
      code_verifier text not null,
      nonce text not null,
      expires_at timestamptz not null
    )`.execute(db);
  await sql`create index sso_sign_in_expires on sso_sign_in (expires_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table sso_sign_in`.execute(db);
  await sql`drop table sso_subject`.execute(db);
  await sql`drop table sso_domain`.execute(db);
  await sql`drop table sso_connection`.execute(db);
}
