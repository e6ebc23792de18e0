import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { databaseKinds, unmigratedDatabases } from '../support/databases.js';

/** A rep as release 0012 wrote it. */
async function recordRepAt0012(db: Database['db']): Promise<void> {
  await sql`insert into organization (id, name, identity_organization_id) values ('org-a', 'Acme', 'kinde_a')`.execute(
    db,
  );
  await sql`insert into sales_rep (id, email, identity_provider_user_id) values ('rep-1', 'ann@example.com', 'user-1')`.execute(
    db,
  );
  await sql`
    insert into organization_sales_rep
      (id, organization_id, sales_rep_id, rep_number, roles, first_name, last_name, first_name_search,
       last_name_search, email, phone_number)
    values ('asg-1', 'org-a', 'rep-1', 'R-1', '{SalesRep}', 'Ann', 'Lee', 'ann', 'lee', 'ann@example.com', null)`.execute(
    db,
  );
}

/**
 * Migration 0014 (SCIM) adds the SCIM tokens, the assignment's externalId and last change, and the `scim` actor: the
 * reps of an existing database keep every value (no externalId, no change yet), and the trigger dates every update.
 */
describe.each(databaseKinds)('migration 0014 (SCIM) on %s', (kind) => {
  const openUnmigrated = unmigratedDatabases(kind);

  it('keeps existing reps as they were, dates their next change, and is undone by its down migration', async () => {
    const { db, migrator } = await openUnmigrated();
    expect((await migrator.migrateTo('0012_effect_ordering_key')).error).toBeUndefined();
    await recordRepAt0012(db);
    expect((await migrator.migrateTo('0014_scim')).error).toBeUndefined();

    const before = await db.selectFrom('organization_sales_rep').selectAll().executeTakeFirstOrThrow();
    expect(before).toMatchObject({ id: 'asg-1', rep_number: 'R-1', external_id: null, updated_at: null });
    await db.updateTable('organization_sales_rep').set({ active: false }).where('id', '=', 'asg-1').execute();
    const after = await db.selectFrom('organization_sales_rep').selectAll().executeTakeFirstOrThrow();
    expect(after.updated_at).toBeInstanceOf(Date);

    await sql`
      insert into event (id, organization_id, action, actor_type, actor_id, targets, target_ids, changes)
      values ('ev-1', 'org-a', 'sales_rep.deactivated', 'scim', 'tok-1', '[]', '{}', '{}')`.execute(db);
    expect((await migrator.migrateTo('0012_effect_ordering_key')).error).toBeUndefined();
    const { rows } = await sql<{ column_name: string }>`
      select column_name from information_schema.columns
      where table_name = 'organization_sales_rep' and column_name in ('external_id', 'updated_at')`.execute(
      db,
    );
    expect(rows).toEqual([]);
    expect((await migrator.migrateTo('0014_scim')).error).toBeUndefined();
  }, 120_000);
});
