import { type Kysely, sql } from 'kysely';

// The last SCIM request made with each token and its outcome (src/scim/, docs/scim.md), for the admin to see what
// the directory last did: one row per token, overwritten by each request, so it never grows. The path keeps no
// query values (a filter holds an email). Adding nullable columns rewrites no row.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table scim_token
      add column last_used_at timestamptz,
      add column last_method text,
      add column last_path text,
      add column last_status integer,
      add column last_scim_type text,
      add column last_detail text`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table scim_token
      drop column last_used_at,
      drop column last_method,
      drop column last_path,
      drop column last_status,
      drop column last_scim_type,
      drop column last_detail`.execute(db);
}
