import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest, openDatabase } from '../../src/db/database.js';
import type { Organization } from '../../src/db/schema.js';
import { PrivatePostgres } from './private-postgres.js';
import { type HardenedService, startHardenedService } from './support.js';

// Runs on PostgreSQL only, by its nature: the embedded database has no server to lose. It never touches the
// shared server; it starts its own.
const CONNECT_TIMEOUT_MS = 1000;
const STATEMENT_TIMEOUT_MS = 2000;
/** The longest any request may take while the database is away: the client's query time-out and some slack. */
const FAIL_FAST_MS = STATEMENT_TIMEOUT_MS + 1000 + 1000;

interface Timed {
  response: LightMyRequestResponse;
  ms: number;
}

describe('PostgreSQL restarted or hung while requests flow', () => {
  let postgres: PrivatePostgres;
  let service: HardenedService;
  let organization: Organization;
  let admin: string;

  beforeAll(async () => {
    postgres = await PrivatePostgres.create();
    const database = await openPrivateDatabase(5);
    await migrateToLatest(database.db);
    service = await startHardenedService({ ...database, url: postgres.url }, { RATE_LIMIT_MAX: '1000000' });
    organization = await service.createOrganization();
    admin = await service.token(organization, 'outage-admin', ['Admin']);
  }, 120_000);
  afterAll(async () => {
    await service?.close();
    await postgres?.destroy();
  });

  /** The service's database handle on the test's own server, with this file's short time-outs. */
  const openPrivateDatabase = (poolSize: number) =>
    openDatabase({
      databaseUrl: postgres.url,
      poolSize,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      statementTimeoutMs: STATEMENT_TIMEOUT_MS,
    });

  const timed = async (url: string): Promise<Timed> => {
    const started = Date.now();
    const response = await service.app.inject({
      method: 'GET',
      url,
      headers: { authorization: `Bearer ${admin}` },
    });
    return { response, ms: Date.now() - started };
  };

  /** Requests from four clients at once, for `ms` milliseconds. */
  const flow = async (ms: number, url = '/api/organizations/salesreps'): Promise<Timed[]> => {
    const results: Timed[] = [];
    const until = Date.now() + ms;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (Date.now() < until) {
          results.push(await timed(url));
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }),
    );
    return results;
  };

  const expectFastUnavailable = (results: Timed[]) => {
    expect(results.length).toBeGreaterThan(0);
    for (const { response, ms } of results) {
      expect(response.statusCode).toBe(503);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.headers['retry-after']).toBeDefined();
      expect(response.json()).toMatchObject({
        status: 503,
        type: 'urn:salesreps:problem:database-unavailable',
        requestId: response.headers['x-request-id'],
      });
      expect(ms).toBeLessThan(FAIL_FAST_MS);
    }
  };

  const waitForRecovery = async () => {
    const until = Date.now() + 20_000;
    while (Date.now() < until) {
      if ((await timed('/readyz')).response.statusCode === 200) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error('the service did not become ready again');
  };

  it('answers 200 while the database is up', async () => {
    const results = await flow(500);
    expect(results.every(({ response }) => response.statusCode === 200)).toBe(true);
    expect((await timed('/readyz')).response.statusCode).toBe(200);
  });

  it('fails fast with 503 problem+json while PostgreSQL is stopped, /readyz answers 503, and recovers by itself', async () => {
    const during = flow(4000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await postgres.stop();
    const stoppedAt = Date.now();
    const results = await during;
    // Requests already answered before the stop took effect were 200; none was anything but 200 or a fast 503.
    for (const { response, ms } of results) {
      expect([200, 503]).toContain(response.statusCode);
      expect(ms).toBeLessThan(FAIL_FAST_MS);
    }
    expect(Date.now() - stoppedAt).toBeGreaterThan(3000);
    expectFastUnavailable(await flow(1000));
    const ready = await timed('/readyz');
    expect(ready.response.statusCode).toBe(503);
    expect(ready.response.headers['content-type']).toContain('application/problem+json');

    await postgres.start();
    await waitForRecovery();
    const after = await flow(500);
    expect(after.every(({ response }) => response.statusCode === 200)).toBe(true);
  }, 60_000);

  it('fails fast with 503 while PostgreSQL hangs (its processes frozen), and recovers when it thaws', async () => {
    await postgres.signal('SIGSTOP');
    try {
      expectFastUnavailable(await flow(STATEMENT_TIMEOUT_MS + 2000));
      expect((await timed('/readyz')).response.statusCode).toBe(503);
    } finally {
      await postgres.signal('SIGCONT');
    }
    await waitForRecovery();
    const after = await flow(500);
    expect(after.every(({ response }) => response.statusCode === 200)).toBe(true);
  }, 60_000);

  it('drops a connection whose statement went unanswered past the client time-out, rather than reusing it', async () => {
    const database = await openPrivateDatabase(1);
    const backendPid = async () =>
      (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(database.db)).rows[0]?.pid;
    try {
      const before = await backendPid();
      await postgres.signal('SIGSTOP');
      try {
        const started = Date.now();
        await expect(backendPid()).rejects.toThrow('Query read timeout');
        expect(Date.now() - started).toBeLessThan(FAIL_FAST_MS);
        // Returned to the pool, the connection would hold the next statement behind the unanswered one.
        expect(database.poolUse()).toMatchObject({ total: 0 });
      } finally {
        await postgres.signal('SIGCONT');
      }
      const after = await backendPid();
      expect(after).toBeDefined();
      expect(after).not.toBe(before);
    } finally {
      await database.close();
    }
  }, 60_000);

  it('fails a transaction whose statement went unanswered within the client time-out, its ROLLBACK included', async () => {
    const database = await openPrivateDatabase(1);
    let frozenAt = 0;
    try {
      const transaction = database.db.transaction().execute(async (trx) => {
        await sql`select 1`.execute(trx);
        await postgres.signal('SIGSTOP');
        frozenAt = Date.now();
        await sql`select 2`.execute(trx);
      });
      try {
        await expect(transaction).rejects.toThrow('Query read timeout');
        // Not a second wait for the ROLLBACK queued behind the unanswered statement.
        expect(Date.now() - frozenAt).toBeLessThan(FAIL_FAST_MS);
        expect(database.poolUse()).toMatchObject({ total: 0 });
      } finally {
        await postgres.signal('SIGCONT');
      }
    } finally {
      await database.close();
    }
  }, 60_000);
});
