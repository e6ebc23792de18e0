import { type Kysely, sql } from 'kysely';

// SAML sign-ins (src/sso/saml/, docs/saml.md): the requests this service sent to an IdP, so that a response is
// taken only in answer to one of them (InResponseTo) and only once, and the assertion ids already used, so that
// no assertion signs anyone in twice. Both are shared by the replicas (one delete, one unique insert decide) and
// purged once past their expiry.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table saml_request (
      id text primary key,
      connection_id text not null,
      expires_at timestamptz not null,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index saml_request_expires on saml_request (expires_at)`.execute(db);
  await sql`
    create table saml_assertion (
      connection_id text not null,
      assertion_id text not null,
      expires_at timestamptz not null,
      primary key (connection_id, assertion_id)
    )`.execute(db);
  await sql`create index saml_assertion_expires on saml_assertion (expires_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table saml_assertion`.execute(db);
  await sql`drop table saml_request`.execute(db);
}
