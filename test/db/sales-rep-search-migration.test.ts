import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../src/db/database.js';
import { searchKey } from '../../src/kernel/search.js';
import { databaseKinds, unmigratedDatabases } from '../support/databases.js';

/** More non-ASCII names than one backfill batch holds, so that the backfill takes several. */
const NON_ASCII_ROWS = 2500;

/**
 * Migration 0011 gives every existing assignment the search keys of its names, the service's own lower-casing
 * (src/kernel/search.ts) whether the names are ASCII or not, without moving the organization's list version.
 */
describe.each(databaseKinds)('migration 0011 (the search of reps) on %s', (kind) => {
  const openUnmigrated = unmigratedDatabases(kind);

  it("backfills every assignment's name keys, then is undone by its down migration", async () => {
    const { db, migrator } = await openUnmigrated();
    expect((await migrator.migrateTo('0010_webhooks')).error).toBeUndefined();
    await sql`insert into organization (id, name, identity_organization_id) values ('org-a', 'A', 'idorg-a')`.execute(
      db,
    );
    await sql`
      insert into sales_rep (id, email, identity_provider_user_id)
      select 'rep-' || i, 'rep' || i || '@example.com', 'user-' || i
      from generate_series(1, ${NON_ASCII_ROWS + 2}::int) i`.execute(db);
    await sql`
      insert into organization_sales_rep
        (id, organization_id, sales_rep_id, rep_number, roles, first_name, last_name, email)
      values
        ('as-1', 'org-a', 'rep-1', 'R1', '{SalesRep}', 'Ann', 'LEE-Smith', 'rep1@example.com'),
        ('as-2', 'org-a', 'rep-2', 'R2', '{SalesRep}', 'Bob', 'Ångström', 'rep2@example.com')`.execute(db);
    await sql`
      insert into organization_sales_rep
        (id, organization_id, sales_rep_id, rep_number, roles, first_name, last_name, email)
      select 'as-' || i, 'org-a', 'rep-' || i, 'R' || i, '{SalesRep}',
        (array['ÉMILE', 'Zoë', 'ΣΊΣΥΦΟΣ'])[1 + i % 3], 'Ürün ' || i, 'rep' || i || '@example.com'
      from generate_series(3, ${NON_ASCII_ROWS + 2}::int) i`.execute(db);
    const versionBefore = await sql<{ version: string }>`
      select version::text from organization_assignment_count where organization_id = 'org-a'`.execute(db);

    expect(await migrateToLatest(db)).toContain('0011_sales_rep_search');

    const rows = await db
      .selectFrom('organization_sales_rep')
      .select(['id', 'first_name', 'last_name', 'first_name_search', 'last_name_search'])
      .execute();
    expect(rows).toHaveLength(NON_ASCII_ROWS + 2);
    const wrong = rows.filter(
      (row) =>
        row.first_name_search !== searchKey(row.first_name) ||
        row.last_name_search !== searchKey(row.last_name),
    );
    expect(wrong).toEqual([]);
    // Folded as the service folds now, accents stripped (migration 0021 refolded it).
    expect(rows.find((row) => row.id === 'as-2')?.last_name_search).toBe('angstrom');
    const versionAfter = await sql<{ version: string }>`
      select version::text from organization_assignment_count where organization_id = 'org-a'`.execute(db);
    expect(versionAfter.rows).toEqual(versionBefore.rows);

    expect((await migrator.migrateTo('0010_webhooks')).error).toBeUndefined();
    const { rows: columns } = await sql<{ column_name: string }>`
      select column_name from information_schema.columns
      where table_name = 'organization_sales_rep' and table_schema = current_schema()
        and column_name like '%search%'`.execute(db);
    expect(columns).toEqual([]);
  }, 120_000);
});
