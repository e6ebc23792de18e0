import { type Kysely, sql } from 'kysely';

// The embedded OpenID provider's ID-token keys beside the local issuer's ES256 key (docs/signin.md, "Keys"): one row
// per algorithm, its private JWK sealed (AES-256-GCM) under a key derived from the issuer key, so that every
// replica signs with the same key and a database reader cannot sign with it.
// And the DPoP proofs the API has accepted while they are fresh (docs/signin.md, "DPoP"): a proof's `jti` is used
// once, across replicas.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table signin_signing_key (
      alg text primary key,
      sealed_jwk text not null,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`
    create table dpop_proof (
      key text primary key,
      expires_at timestamptz not null
    )`.execute(db);
  await sql`create index dpop_proof_expires on dpop_proof (expires_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table dpop_proof`.execute(db);
  await sql`drop table signin_signing_key`.execute(db);
}
