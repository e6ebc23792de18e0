import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { type Database, migrateToLatest } from '../../src/db/database.js';
import { databaseKinds, unmigratedDatabases } from '../support/databases.js';

const TRIGRAM_INDEXES = ['customer_search_trigrams', 'organization_sales_rep_search_trigrams'];

/** The storage options of the trigram indexes, by index. */
const optionsOfTrigramIndexes = async (database: Database) => {
  const { rows } = await sql<{ name: string; options: string[] | null }>`
    select relname as name, reloptions as options from pg_class
    where relname in (${sql.join(TRIGRAM_INDEXES)}) order by relname`.execute(database.db);
  return rows;
};

/**
 * Migration 0023 has the trigram indexes take a written row's entries at once, never through GIN's pending list,
 * which every search would read whatever organization wrote it
 * (docs/decisions/0051-trigram-indexes-without-pending-list.md); its down migration restores the default.
 */
describe.each(databaseKinds)('migration 0023 (trigram indexes without a pending list) on %s', (kind) => {
  const openUnmigrated = unmigratedDatabases(kind);

  it('turns the pending list of both trigram indexes off, keeps every search finding its rows, and is undone', async () => {
    const { database, db, migrator } = await openUnmigrated();
    expect((await migrator.migrateTo('0022_trigram_index_alone')).error).toBeUndefined();
    const before = await optionsOfTrigramIndexes(database);
    expect(before).toEqual(TRIGRAM_INDEXES.map((name) => ({ name, options: null })));
    await sql`insert into organization (id, name, identity_organization_id) values ('org-a', 'A', 'idorg-a')`.execute(
      db,
    );
    await sql`
      insert into sales_rep (id, email, identity_provider_user_id)
      select 'rep-' || i, 'rep' || i || '@example.com', 'user-' || i from generate_series(1, 3) i`.execute(
      db,
    );
    // Rows written before the migration wait in the pending list; the migration folds them into the index.
    await sql`
      insert into organization_sales_rep (id, organization_id, sales_rep_id, rep_number, roles, first_name,
        last_name, first_name_search, last_name_search, email)
      select 'as-' || i, 'org-a', 'rep-' || i, 'R' || i, '{SalesRep}', 'Ann', 'Khan', 'ann', 'khan',
        'rep' || i || '@example.com'
      from generate_series(1, 2) i`.execute(db);

    expect(await migrateToLatest(db)).toContain('0023_trigram_indexes_without_pending_list');
    expect(await optionsOfTrigramIndexes(database)).toEqual(
      TRIGRAM_INDEXES.map((name) => ({ name, options: ['fastupdate=off'] })),
    );
    // A row written after it goes into the index at once.
    await sql`
      insert into organization_sales_rep (id, organization_id, sales_rep_id, rep_number, roles, first_name,
        last_name, first_name_search, last_name_search, email)
      values ('as-3', 'org-a', 'rep-3', 'R3', '{SalesRep}', 'Ann', 'Khan', 'ann', 'khan', 'rep3@example.com')`.execute(
      db,
    );
    const { rows } = await sql<{ id: string }>`
      select id from organization_sales_rep
      where organization_id collate "C" = 'org-a'
        and (first_name_search || ' ' || last_name_search || ' ' || lower(email) || ' ' || lower(rep_number)) like '%khan%'
      order by id`.execute(db);
    expect(rows).toEqual([{ id: 'as-1' }, { id: 'as-2' }, { id: 'as-3' }]);

    expect((await migrator.migrateTo('0022_trigram_index_alone')).error).toBeUndefined();
    expect(await optionsOfTrigramIndexes(database)).toEqual(before);
  }, 120_000);
});
