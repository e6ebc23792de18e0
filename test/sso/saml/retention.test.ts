import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/db/database.js';
import { startSamlRetention } from '../../../src/sso/saml/retention.js';
import { eventually } from '../../effects/support/wait.js';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../../support/databases.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const silent = { info: () => {}, error: () => {} };

describe.each(databaseKinds)('expired SAML requests and assertion ids, on %s', (kind) => {
  let database: TestDatabase;
  let db: Db;
  beforeAll(async () => {
    database = await openTestDatabase(kind);
    db = database.db;
  }, 120_000);
  afterAll(async () => {
    await database?.close();
  });

  it('are deleted in bounded batches at start, and the unexpired ones kept', async () => {
    const rows = (prefix: string, count: number, offset: string) =>
      Array.from({ length: count }, (_, index) => `${prefix}${index}`).map((id) => ({ id, offset }));
    for (const { id, offset } of [...rows('_expired', 5, '-1 minute'), ...rows('_live', 2, '10 minutes')]) {
      await sql`insert into saml_request (id, connection_id, expires_at)
        values (${id}, 'sso_1', now() + ${offset}::interval)`.execute(db);
      await sql`insert into saml_assertion (connection_id, assertion_id, expires_at)
        values ('sso_1', ${id}, now() + ${offset}::interval)`.execute(db);
    }
    const retention = startSamlRetention(db, { intervalMs: DAY_MS, batchSize: 2 }, silent);
    try {
      await eventually(async () => {
        const requests = await db.selectFrom('saml_request').select('id').orderBy('id').execute();
        const assertions = await db
          .selectFrom('saml_assertion')
          .select('assertion_id')
          .orderBy('assertion_id')
          .execute();
        expect(requests.map((row) => row.id)).toEqual(['_live0', '_live1']);
        expect(assertions.map((row) => row.assertion_id)).toEqual(['_live0', '_live1']);
      });
    } finally {
      await retention.stop();
    }
  });
});
