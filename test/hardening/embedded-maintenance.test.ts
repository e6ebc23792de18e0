import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createService, type Service } from '../../src/main.js';
import { createOrganization } from '../../src/organizations/service.js';
import { eventually } from '../effects/support/wait.js';

// PGlite runs no autovacuum; the service vacuums and analyses the embedded database itself. PostgreSQL servers run
// their own autovacuum, and the service leaves them to it.
describe('the embedded database is vacuumed and analysed by the service (PGlite only)', () => {
  let dataDir: string;
  let service: Service | undefined;

  const start = async (intervalMs: string) => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'salesreps-maintenance-'));
    service = await createService(
      loadConfig({
        DATA_DIR: dataDir,
        DEMO: 'false',
        LOG_LEVEL: 'silent',
        EMBEDDED_VACUUM_INTERVAL_MS: intervalMs,
      }),
    );
    const db = service.database.db;
    for (let i = 0; i < 20; i++) {
      await createOrganization(db, { name: `Vacuumed ${i}`, identityOrganizationId: `org_vacuumed_${i}` });
    }
    return db;
  };
  /** relallvisible is set only by VACUUM, reltuples (-1: never) by VACUUM or ANALYZE. */
  const organizationStatistics = async (db: Service['database']['db']) => {
    const result = await sql<{ relallvisible: number; reltuples: number }>`
      select relallvisible, reltuples from pg_class where relname = 'organization'`.execute(db);
    return result.rows[0];
  };

  afterEach(async () => {
    await service?.close();
    service = undefined;
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('every EMBEDDED_VACUUM_INTERVAL_MS, pass after pass, each table is vacuumed and analysed while requests are answered', async () => {
    const db = await start('200');
    const answered: number[] = [];
    const ready = async () => {
      const response = await service?.app.inject({ method: 'GET', url: '/readyz' });
      answered.push(response?.statusCode ?? 0);
    };
    await eventually(async () => {
      await ready();
      expect(await organizationStatistics(db)).toEqual({ relallvisible: 1, reltuples: 20 });
      const neverAnalysed = await sql<{ relname: string }>`
        select c.relname from pg_class c join pg_tables t on t.tablename = c.relname and t.schemaname = current_schema()
        where c.reltuples < 0`.execute(db);
      expect(neverAnalysed.rows).toEqual([]);
    }, 5000);
    // A later pass sees rows added after the first.
    for (let i = 20; i < 40; i++) {
      await createOrganization(db, { name: `Vacuumed ${i}`, identityOrganizationId: `org_vacuumed_${i}` });
    }
    await eventually(async () => {
      await ready();
      expect((await organizationStatistics(db))?.reltuples).toBe(40);
    }, 5000);
    expect(answered.length).toBeGreaterThan(1);
    expect(new Set(answered)).toEqual(new Set([200]));
  });

  it('EMBEDDED_VACUUM_INTERVAL_MS=0 turns it off: the tables are never vacuumed', async () => {
    const db = await start('0');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await organizationStatistics(db)).toEqual({ relallvisible: 0, reltuples: -1 });
  });
});
