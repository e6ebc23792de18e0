import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, migrateToLatest, openDatabase } from '../../src/db/database.js';
import { eventually } from '../effects/support/wait.js';
import { PgBouncer } from '../support/pgbouncer.js';
import { PrivatePostgres } from './private-postgres.js';
import { startHardenedService } from './support.js';

// PostgreSQL only, by its nature: a PgBouncer of the test's own (transaction mode, its defaults otherwise) in front
// of a server of the test's own, so that the server's sessions can be inspected without the shared server's noise.
const STATEMENT_TIMEOUT_MS = 1000;

describe('through PgBouncer in transaction mode (docs/deploy.md)', () => {
  let postgres: PrivatePostgres;
  let bouncer: PgBouncer;
  let admin: pg.Client;
  const opened: Database[] = [];

  /** The service's database handle through PgBouncer, with this file's short statement time-out. */
  const throughBouncer = async (database = 'postgres', poolSize = 4) => {
    const handle = await openDatabase({
      databaseUrl: bouncer.urlFor(postgres.url, database),
      poolSize,
      statementTimeoutMs: STATEMENT_TIMEOUT_MS,
    });
    opened.push(handle);
    return handle;
  };
  /** What the server is running right now that matches `text` (seen directly, not through PgBouncer). */
  const runningOnServer = async (text: string) =>
    (
      await admin.query<{ pid: number }>(
        `select pid from pg_stat_activity where state = 'active' and query like $1 and pid <> pg_backend_pid()`,
        [`%${text}%`],
      )
    ).rows;

  beforeAll(async () => {
    postgres = await PrivatePostgres.create();
    // `single` has one server connection, so consecutive transactions of any client share it.
    bouncer = await PgBouncer.start(postgres.url, { single: 'dbname=postgres pool_size=1' });
    admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
  }, 120_000);
  afterAll(async () => {
    await Promise.all(opened.map((handle) => handle.close().catch(() => {})));
    await admin?.end();
    await bouncer?.stop();
    await postgres?.destroy();
  });

  it('this PgBouncer refuses a statement_timeout startup parameter, as a default one does', async () => {
    const client = new pg.Client({ connectionString: bouncer.urlFor(postgres.url), statement_timeout: 1000 });
    client.on('error', () => {});
    await expect(client.connect()).rejects.toThrow(/unsupported startup parameter/);
  });

  it('the service connects, migrates and serves through it', async () => {
    const database = await throughBouncer();
    expect(await migrateToLatest(database.db)).toContain('0001_sales_reps');
    const service = await startHardenedService({ ...database, url: bouncer.urlFor(postgres.url) });
    try {
      const organization = await service.createOrganization();
      const token = await service.token(organization, 'bouncer-admin', ['Admin']);
      const headers = { authorization: `Bearer ${token}` };
      const added = await service.app.inject({
        method: 'PUT',
        url: '/api/organizations/salesreps',
        headers,
        payload: { firstName: 'Pia', lastName: 'Pooled', email: 'pia@example.com', repNumber: 'P-1' },
      });
      expect(added.statusCode).toBe(200);
      const listed = await service.app.inject({
        method: 'GET',
        url: '/api/organizations/salesreps',
        headers,
      });
      expect(listed.statusCode).toBe(200);
      expect(listed.json()).toMatchObject([{ email: 'pia@example.com', repNumber: 'P-1' }]);
    } finally {
      await service.app.close();
    }
  });

  it('replicas migrating a fresh database at once apply each migration once and leave no lock held', async () => {
    await admin.query('create database migrate_together');
    const handles = await Promise.all([1, 2, 3].map(() => throughBouncer('migrate_together')));
    const applied = await Promise.all(handles.map((handle) => migrateToLatest(handle.db)));
    expect(applied.flat()).toContain('0001_sales_reps');
    expect(new Set(applied.flat()).size).toBe(applied.flat().length);
    // A session-level lock would stay on whichever server connection took it, for the next client to wait on.
    const locks = await admin.query(`select * from pg_locks where locktype = 'advisory'`);
    expect(locks.rows).toEqual([]);
    expect(await migrateToLatest((await throughBouncer('migrate_together')).db)).toEqual([]);
  });

  it('a plain statement past the statement time-out is cancelled on the server, not only given up by the client', async () => {
    const database = await throughBouncer();
    await expect(sql`select pg_sleep(30) as plain_sleep`.execute(database.db)).rejects.toMatchObject({
      code: '57014',
    });
    await eventually(async () => expect(await runningOnServer('plain_sleep')).toEqual([]), 3000);
  });

  it('a statement in a transaction past the time-out is cancelled on the server too', async () => {
    const database = await throughBouncer();
    await expect(
      database.db.transaction().execute(async (trx) => {
        await sql`select 1`.execute(trx);
        await sql`select pg_sleep(30) as sleep_in_transaction`.execute(trx);
      }),
    ).rejects.toMatchObject({ code: '57014' });
    await eventually(async () => expect(await runningOnServer('sleep_in_transaction')).toEqual([]), 3000);
  });

  it("a transaction's time-outs are set inside it and do not stay on the server connection for the next client", async () => {
    const database = await throughBouncer('single', 1);
    const setting = sql<{ statement: string; idle: string }>`
      select current_setting('statement_timeout') as statement,
        current_setting('idle_in_transaction_session_timeout') as idle`;
    const inside = await database.db
      .transaction()
      .execute(async (trx) => (await setting.execute(trx)).rows[0]);
    expect(inside).toEqual({ statement: '1s', idle: '2s' });
    // The same (only) server connection, outside a transaction and from a client that is not the service.
    expect((await setting.execute(database.db)).rows[0]).toEqual({ statement: '0', idle: '0' });
    const other = new pg.Client({ connectionString: bouncer.urlFor(postgres.url, 'single') });
    await other.connect();
    try {
      expect((await other.query(setting.compile(database.db).sql)).rows[0]).toEqual({
        statement: '0',
        idle: '0',
      });
    } finally {
      await other.end();
    }
  });

  it('a transaction left idle past its limit is ended by the server, and its locks with it', async () => {
    const database = await throughBouncer();
    let lockReleased: boolean | undefined;
    await expect(
      database.db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(4242)`.execute(trx);
        // A replica that hangs mid-transaction: twice the statement time-out and some slack.
        await new Promise((resolve) => setTimeout(resolve, STATEMENT_TIMEOUT_MS * 2 + 1500));
        const probe = await admin.query<{ free: boolean }>('select pg_try_advisory_lock(4242) as free');
        lockReleased = probe.rows[0]?.free;
        await admin.query('select pg_advisory_unlock(4242)');
        await sql`select 1`.execute(trx);
      }),
    ).rejects.toThrow();
    expect(lockReleased).toBe(true);
  }, 30_000);
});
