import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../src/db/database.js';
import { databaseKinds, unmigratedDatabases } from '../support/databases.js';

/**
 * Migration 0006 moves what an organization says of a person onto the assignment alone: every assignment ends with
 * the person's values of before the migration, and the person keeps only its email and identity provider user.
 */
describe.each(databaseKinds)('migration 0006 (names and phone on the assignment) on %s', (kind) => {
  const openUnmigrated = unmigratedDatabases(kind);

  it("gives every assignment the person's current values and drops them from the person", async () => {
    const { db, migrator } = await openUnmigrated();
    const before = await migrator.migrateTo('0005_effect_done_by_rep');
    expect(before.error).toBeUndefined();
    await sql`
      insert into organization (id, name, identity_organization_id)
      values ('org-a', 'A', 'idorg-a'), ('org-b', 'B', 'idorg-b')`.execute(db);
    await sql`
      insert into sales_rep (id, email, first_name, last_name, phone_number, identity_provider_user_id) values
        ('rep-1', 'Ann@Example.com', 'Ann', 'Lee', '555-0100', 'user-1'),
        ('rep-2', 'bob@example.com', 'Bob', 'Stone', null, 'user-2')`.execute(db);
    // rep-1's copies in org-b differ from the person (as no release ever wrote them): the person's values win.
    await sql`
      insert into organization_sales_rep
        (id, organization_id, sales_rep_id, rep_number, roles, first_name, last_name, email, phone_number) values
        ('as-1a', 'org-a', 'rep-1', 'R1', '{SalesRep}', 'Ann', 'Lee', 'Ann@Example.com', '555-0100'),
        ('as-1b', 'org-b', 'rep-1', 'R1', '{SalesRep}', 'Drifted', 'Copy', 'ann@example.com', null),
        ('as-2a', 'org-a', 'rep-2', 'R2', '{SalesRep}', 'Bob', 'Stone', 'bob@example.com', null)`.execute(db);

    expect(await migrateToLatest(db)).toContain('0006_names_on_assignment');

    const assignments = await db
      .selectFrom('organization_sales_rep')
      .select(['id', 'first_name', 'last_name', 'email', 'phone_number'])
      .orderBy('id')
      .execute();
    expect(assignments).toEqual([
      {
        id: 'as-1a',
        first_name: 'Ann',
        last_name: 'Lee',
        email: 'Ann@Example.com',
        phone_number: '555-0100',
      },
      {
        id: 'as-1b',
        first_name: 'Ann',
        last_name: 'Lee',
        email: 'Ann@Example.com',
        phone_number: '555-0100',
      },
      { id: 'as-2a', first_name: 'Bob', last_name: 'Stone', email: 'bob@example.com', phone_number: null },
    ]);
    const { rows } = await sql<{ column_name: string }>`
      select column_name from information_schema.columns
      where table_name = 'sales_rep' and table_schema = current_schema() order by column_name`.execute(db);
    expect(rows.map((row) => row.column_name)).toEqual([
      'created_at',
      'email',
      'id',
      'identity_provider_user_id',
    ]);
    // The assignment count and version (migration 0004) still match the assignments.
    const counts = await db
      .selectFrom('organization_assignment_count')
      .select(['organization_id', 'assignment_count'])
      .orderBy('organization_id')
      .execute();
    expect(counts).toEqual([
      { organization_id: 'org-a', assignment_count: 2 },
      { organization_id: 'org-b', assignment_count: 1 },
    ]);
  }, 120_000);

  it("is undone by its down migration, the person taking its earliest assignment's values", async () => {
    const { db, migrator } = await openUnmigrated();
    await migrateToLatest(db);
    await sql`insert into organization (id, name, identity_organization_id) values ('org-a', 'A', 'idorg-a')`.execute(
      db,
    );
    await sql`
      insert into sales_rep (id, email, identity_provider_user_id) values ('rep-1', 'ann@example.com', 'user-1')`.execute(
      db,
    );
    await sql`
      insert into organization_sales_rep (id, organization_id, sales_rep_id, rep_number, roles, first_name,
        last_name, first_name_search, last_name_search, email, phone_number)
      values ('as-1a', 'org-a', 'rep-1', 'R1', '{SalesRep}', 'Ann', 'Lee', 'ann', 'lee', 'ann@example.com',
        '555-0100')`.execute(db);
    const down = await migrator.migrateTo('0005_effect_done_by_rep');
    expect(down.error).toBeUndefined();
    const { rows } = await sql<Record<string, unknown>>`
      select first_name, last_name, phone_number from sales_rep where id = 'rep-1'`.execute(db);
    expect(rows).toEqual([{ first_name: 'Ann', last_name: 'Lee', phone_number: '555-0100' }]);
  }, 120_000);
});
