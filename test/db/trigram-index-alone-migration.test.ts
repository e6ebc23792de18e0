import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { type Database, migrateToLatest } from '../../src/db/database.js';
import { databaseKinds, unmigratedDatabases } from '../support/databases.js';

const trigramIndexOfReps = async (database: Database) => {
  const { rows } = await sql<{ indexdef: string }>`
    select indexdef from pg_indexes
    where schemaname = current_schema() and indexname = 'organization_sales_rep_search_trigrams'`.execute(
    database.db,
  );
  return rows.map((row) => row.indexdef);
};

/**
 * Migration 0022 holds the organization of the reps' trigram index in the "C" collation, so that only that index
 * serves a search's `organization_id collate "C" = ...` (docs/decisions/0050-trigram-index-chosen-by-collation.md);
 * its down migration restores the index of migration 0021.
 */
describe.each(databaseKinds)('migration 0022 (the trigram index alone) on %s', (kind) => {
  const openUnmigrated = unmigratedDatabases(kind);

  it('rebuilds the trigram index with the organization in "C", finds the same reps, and is undone', async () => {
    const { database, db, migrator } = await openUnmigrated();
    expect((await migrator.migrateTo('0021_substring_search')).error).toBeUndefined();
    const before = await trigramIndexOfReps(database);
    expect(before).toHaveLength(1);
    expect(before[0]).not.toContain('COLLATE');
    await sql`insert into organization (id, name, identity_organization_id) values ('org-a', 'A', 'idorg-a'),
      ('org-b', 'B', 'idorg-b')`.execute(db);
    await sql`
      insert into sales_rep (id, email, identity_provider_user_id)
      select 'rep-' || i, 'rep' || i || '@example.com', 'user-' || i from generate_series(1, 4) i`.execute(
      db,
    );
    await sql`
      insert into organization_sales_rep (id, organization_id, sales_rep_id, rep_number, roles, first_name,
        last_name, first_name_search, last_name_search, email)
      select 'as-' || i, case when i <= 2 then 'org-a' else 'org-b' end, 'rep-' || i, 'R' || i, '{SalesRep}',
        'Ann', 'Khan', 'ann', 'khan', 'rep' || i || '@example.com'
      from generate_series(1, 4) i`.execute(db);

    expect(await migrateToLatest(db)).toContain('0022_trigram_index_alone');
    const after = await trigramIndexOfReps(database);
    expect(after).toHaveLength(1);
    expect(after[0]).toContain('gin (organization_id COLLATE "C", ');
    const { rows } = await sql<{ id: string }>`
      select id from organization_sales_rep
      where organization_id collate "C" = 'org-a'
        and (first_name_search || ' ' || last_name_search || ' ' || lower(email) || ' ' || lower(rep_number)) like '%khan%'
      order by id`.execute(db);
    expect(rows).toEqual([{ id: 'as-1' }, { id: 'as-2' }]);

    expect((await migrator.migrateTo('0021_substring_search')).error).toBeUndefined();
    expect(await trigramIndexOfReps(database)).toEqual(before);
  }, 120_000);
});
