import { type Kysely, sql } from 'kysely';

// The trigram indexes of migration 0021 take a written row's entries at once instead of through GIN's pending list
// (docs/decisions/0051-trigram-indexes-without-pending-list.md). An index has one pending list, shared by every
// organization, which every search by trigrams reads whole until a vacuum or 4 MB of entries folds it in: one
// organization's writes made every other's searches slower.
const TRIGRAM_INDEXES = ['organization_sales_rep_search_trigrams', 'customer_search_trigrams'];

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`set local statement_timeout = 0`.execute(db);
  for (const index of TRIGRAM_INDEXES) {
    await sql`alter index ${sql.ref(index)} set (fastupdate = off)`.execute(db);
    // Turning the list off leaves the entries already in it: they are folded into the index now.
    await sql`select gin_clean_pending_list(${sql.lit(index)}::regclass)`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const index of TRIGRAM_INDEXES) {
    await sql`alter index ${sql.ref(index)} reset (fastupdate)`.execute(db);
  }
}
