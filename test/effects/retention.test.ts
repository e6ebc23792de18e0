import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { EffectStatus } from '../../src/db/schema.js';
import { claimDueEffects, retryDeadEffect } from '../../src/effects/queries.js';
import { createEffects, type Effects } from '../../src/effects/runtime.js';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../support/databases.js';
import { eventually } from './support/wait.js';

const DAY_MS = 24 * 60 * 60 * 1000;

describe.each(databaseKinds)('effects past their retention, on %s', (kind) => {
  let database: TestDatabase | undefined;
  let effects: Effects | undefined;
  let dataDir: string | undefined;
  beforeAll(async () => {
    database = await openTestDatabase(kind);
  }, 120_000);
  afterEach(async () => {
    await effects?.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });
  afterAll(async () => {
    await database?.close();
  });

  /** The effect table holding `rows` only (finished that many days ago; pending ones due far in the future). */
  const databaseWith = async (
    rows: { rep: string; kind: string; status: EffectStatus; daysAgo: number }[],
  ): Promise<{ db: TestDatabase['db']; ids: string[] }> => {
    if (!database) throw new Error('no database');
    await database.db.deleteFrom('effect').execute();
    const ids: string[] = [];
    for (const row of rows) {
      const finished = new Date(Date.now() - row.daysAgo * DAY_MS);
      const inserted = await database.db
        .insertInto('effect')
        .values({
          organization_id: 'org_retention',
          ordering_key: row.rep,
          channel: row.kind.split('.')[0] ?? row.kind,
          sales_rep_id: row.rep,
          kind: row.kind,
          payload: '{}',
          status: row.status,
          created_at: finished,
          finished_at: row.status === 'pending' ? null : finished,
          next_attempt_at: row.status === 'pending' ? new Date(Date.now() + DAY_MS) : finished,
        })
        .returning(sql<string>`id::text`.as('id'))
        .executeTakeFirstOrThrow();
      ids.push(inserted.id);
    }
    return { db: database.db, ids };
  };
  /** The service's effect runtime, as it starts in every process: the purge runs at its start. */
  const startEffects = (env: Record<string, string> = {}) => {
    if (!database) throw new Error('no database');
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'salesreps-retention-'));
    effects = createEffects(loadConfig({ DATA_DIR: dataDir, ...env }), database.db);
    effects.start(Fastify().log);
  };
  const remaining = async () =>
    (
      await database?.db.selectFrom('effect').select(sql<string>`id::text`.as('id')).orderBy('id').execute()
    )?.map((row) => row.id);

  it('deletes done effects older than EFFECTS_RETENTION_DAYS and dead ones older than EFFECTS_DEAD_RETENTION_DAYS, nothing else', async () => {
    const { ids } = await databaseWith([
      { rep: 'r1', kind: 'email.welcome', status: 'done', daysAgo: 31 },
      { rep: 'r2', kind: 'email.welcome', status: 'done', daysAgo: 29 },
      { rep: 'r3', kind: 'sync.grant', status: 'dead', daysAgo: 31 },
      { rep: 'r4', kind: 'sync.grant', status: 'dead', daysAgo: 91 },
      { rep: 'r5', kind: 'sync.grant', status: 'pending', daysAgo: 400 },
    ]);
    startEffects();
    await eventually(async () => expect(await remaining()).toEqual([ids[1], ids[2], ids[4]]));
  });

  it('honours other settings of the two retentions', async () => {
    const { ids } = await databaseWith([
      { rep: 'r1', kind: 'email.welcome', status: 'done', daysAgo: 3 },
      { rep: 'r2', kind: 'sync.grant', status: 'dead', daysAgo: 3 },
      { rep: 'r3', kind: 'sync.grant', status: 'dead', daysAgo: 6 },
    ]);
    startEffects({ EFFECTS_RETENTION_DAYS: '2', EFFECTS_DEAD_RETENTION_DAYS: '5' });
    await eventually(async () => expect(await remaining()).toEqual([ids[1]]));
  });

  it('deletes in batches until every expired effect is gone', async () => {
    await databaseWith([]);
    await sql`
      insert into effect
        (organization_id, ordering_key, channel, sales_rep_id, kind, payload, status, created_at, finished_at)
      select 'org_retention', 'rep' || n, 'email', 'rep' || n, 'email.welcome', '{}', 'done', now() - interval '40 days',
        now() - interval '40 days'
      from generate_series(1, 2500) as n`.execute(database?.db ?? fail());
    startEffects();
    await eventually(async () => expect(await remaining()).toEqual([]), 30_000);
  });

  it('keeps a done effect recorded after a dead one of its rep and channel, so a retry of the dead one still runs as out of order', async () => {
    const { db, ids } = await databaseWith([
      { rep: 'r1', kind: 'sync.grant', status: 'dead', daysAgo: 40 },
      { rep: 'r1', kind: 'sync.revoke', status: 'done', daysAgo: 40 },
      // Another channel of the same rep: nothing holds it.
      { rep: 'r1', kind: 'email.welcome', status: 'done', daysAgo: 40 },
    ]);
    startEffects();
    await eventually(async () => expect(await remaining()).toEqual([ids[0], ids[1]]));
    // The worker stops, so that the retried effect is claimed here, where what the claim says of it is seen.
    await effects?.close();
    effects = undefined;
    expect(await retryDeadEffect(db, ids[0] ?? fail(), undefined)).toBe('retried');
    const claimed = await claimDueEffects(db, { limit: 10, leaseMs: 60_000, leaseToken: 'retention-test' });
    expect(claimed.map((effect) => [effect.id, effect.later_done])).toEqual([[ids[0], true]]);
  });
});

function fail(): never {
  throw new Error('missing test value');
}
