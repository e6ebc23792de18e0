import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { type Database, migrateToLatest } from '../../src/db/database.js';
import { searchKey } from '../../src/kernel/search.js';
import { databaseKinds, unmigratedDatabases } from '../support/databases.js';

/** More non-ASCII names than one backfill batch holds, so that the backfill takes several. */
const NON_ASCII_ROWS = 2500;

const trigramIndexes = (database: Database) =>
  sql<{ indexname: string }>`
    select indexname from pg_indexes
    where schemaname = current_schema() and indexname like '%search_trigrams' order by indexname`.execute(
    database.db,
  );

/**
 * Migration 0021 refolds the stored search keys of existing names and company names as the service folds them now
 * (src/kernel/search.ts: lower-cased, accents stripped), in batches, without moving the organization's list
 * version, and adds the trigram indexes of the substring search; its down migration drops them.
 */
describe.each(databaseKinds)('migration 0021 (the substring search) on %s', (kind) => {
  const openUnmigrated = unmigratedDatabases(kind);

  it('refolds every stored key of a non-ASCII name, then is undone by its down migration', async () => {
    const { database, db, migrator } = await openUnmigrated();
    expect((await migrator.migrateTo('0020_invitation_pending')).error).toBeUndefined();
    await sql`insert into organization (id, name, identity_organization_id) values ('org-a', 'A', 'idorg-a')`.execute(
      db,
    );
    await sql`
      insert into sales_rep (id, email, identity_provider_user_id)
      select 'rep-' || i, 'rep' || i || '@example.com', 'user-' || i
      from generate_series(1, ${NON_ASCII_ROWS + 1}::int) i`.execute(db);
    // The keys as the previous release stored them: lower-cased, accents kept.
    await sql`
      insert into organization_sales_rep (id, organization_id, sales_rep_id, rep_number, roles, first_name,
        last_name, first_name_search, last_name_search, email)
      values ('as-1', 'org-a', 'rep-1', 'R1', '{SalesRep}', 'Ann', 'Lee', 'ann', 'lee', 'rep1@example.com')`.execute(
      db,
    );
    await sql`
      insert into organization_sales_rep (id, organization_id, sales_rep_id, rep_number, roles, first_name,
        last_name, first_name_search, last_name_search, email)
      select 'as-' || i, 'org-a', 'rep-' || i, 'R' || i, '{SalesRep}', n.first_name, 'Ürün ' || i,
        lower(n.first_name), 'ürün ' || i, 'rep' || i || '@example.com'
      from generate_series(2, ${NON_ASCII_ROWS + 1}::int) i
      cross join lateral (select (array['Émile', 'Zoë', 'Chloé'])[1 + i % 3] as first_name) n`.execute(db);
    await sql`
      insert into customer (id, organization_id, customer_number, company_name, company_name_search)
      values ('c-1', 'org-a', 'C-1', 'Zürich Hardware AG', 'zürich hardware ag'),
        ('c-2', 'org-a', 'C-2', 'Acme Supply', 'acme supply')`.execute(db);
    const versionBefore = await sql<{ version: string }>`
      select version::text from organization_assignment_count where organization_id = 'org-a'`.execute(db);

    expect(await migrateToLatest(db)).toContain('0021_substring_search');

    const reps = await db
      .selectFrom('organization_sales_rep')
      .select(['id', 'first_name', 'last_name', 'first_name_search', 'last_name_search'])
      .execute();
    expect(reps).toHaveLength(NON_ASCII_ROWS + 1);
    const wrong = reps.filter(
      (row) =>
        row.first_name_search !== searchKey(row.first_name) ||
        row.last_name_search !== searchKey(row.last_name),
    );
    expect(wrong).toEqual([]);
    expect(reps.find((row) => row.id === 'as-2')?.last_name_search).toBe('urun 2');
    const customers = await db
      .selectFrom('customer')
      .select(['id', 'company_name_search'])
      .orderBy('id')
      .execute();
    expect(customers).toEqual([
      { id: 'c-1', company_name_search: 'zurich hardware ag' },
      { id: 'c-2', company_name_search: 'acme supply' },
    ]);
    const versionAfter = await sql<{ version: string }>`
      select version::text from organization_assignment_count where organization_id = 'org-a'`.execute(db);
    expect(versionAfter.rows).toEqual(versionBefore.rows);
    expect((await trigramIndexes(database)).rows.map((row) => row.indexname)).toEqual([
      'customer_search_trigrams',
      'organization_sales_rep_search_trigrams',
    ]);

    expect((await migrator.migrateTo('0020_invitation_pending')).error).toBeUndefined();
    expect((await trigramIndexes(database)).rows).toEqual([]);
  }, 120_000);
});
