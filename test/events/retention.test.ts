import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/database.js';
import { recordEvents } from '../../src/events/record.js';
import { startEventRetention } from '../../src/events/retention.js';
import { eventually } from '../effects/support/wait.js';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../support/databases.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const silent = { info: () => {}, error: () => {} };

describe.each(databaseKinds)('events past their retention, on %s', (kind) => {
  let database: TestDatabase;
  let db: Db;
  beforeAll(async () => {
    database = await openTestDatabase(kind);
    db = database.db;
  }, 120_000);
  afterAll(async () => {
    await database?.close();
  });

  /** Records `count` events of an organization, then moves them `daysAgo` into the past. */
  const eventsAged = async (organizationId: string, count: number, daysAgo: number) => {
    const ids = await db.transaction().execute((trx) =>
      recordEvents(
        trx,
        { actor: { type: 'system', id: 'test' }, requestId: null },
        organizationId,
        Array.from({ length: count }, (_, index) => ({
          action: 'customer.created' as const,
          targets: [{ type: 'customer' as const, id: `C-${daysAgo}-${index}` }],
          changes: {},
        })),
      ),
    );
    await sql`update event set occurred_at = now() - ${daysAgo} * interval '1 day' where id = any(${ids}::text[])`.execute(
      db,
    );
    return ids;
  };

  it('deletes the events older than the retention in bounded batches, at start, and keeps the younger ones', async () => {
    const old = await eventsAged('org_old', 7, 400);
    const kept = await eventsAged('org_old', 3, 300);
    const retention = startEventRetention(db, { days: 365, intervalMs: DAY_MS, batchSize: 2 }, silent);
    try {
      await eventually(async () => {
        const left = await db
          .selectFrom('event')
          .select('id')
          .where('organization_id', '=', 'org_old')
          .execute();
        expect(left.map((row) => row.id).sort()).toEqual([...kept].sort());
      });
    } finally {
      await retention.stop();
    }
    expect(old).toHaveLength(7);
  });
});
