import { type Kysely, sql } from 'kysely';

// A search's matches by trigrams are read through the trigram index of migration 0021 alone
// (docs/decisions/0050-trigram-index-chosen-by-collation.md). The planner could not tell how many rows a pattern
// matches and often preferred reading all of the organization's entries of a prefix index, which carries every
// searched key, several times the work of the trigram index for the few thousand matches of a name. The index now
// holds the organization in the "C" collation and the search's statements compare it so (`organization_id collate
// "C" = ...`): equality is the same in any deterministic collation, but only an index of that collation can serve
// the comparison, so the prefix indexes (the default collation) are not candidates.
const KEYS = sql`(first_name_search || ' ' || last_name_search || ' ' || lower(email) || ' ' || lower(rep_number))`;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`set local statement_timeout = 0`.execute(db);
  await sql`drop index organization_sales_rep_search_trigrams`.execute(db);
  await sql`create index organization_sales_rep_search_trigrams on organization_sales_rep using gin (
    (organization_id collate "C"), ${KEYS} gin_trgm_ops
  )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`set local statement_timeout = 0`.execute(db);
  await sql`drop index organization_sales_rep_search_trigrams`.execute(db);
  await sql`create index organization_sales_rep_search_trigrams on organization_sales_rep using gin (
    organization_id, ${KEYS} gin_trgm_ops
  )`.execute(db);
}
