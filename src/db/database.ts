// Opening the database (PostgreSQL through pg or the embedded PGlite) and running the migrations.
import path from 'node:path';
import { Kysely, sql, type Transaction } from 'kysely';
import { Migrator } from 'kysely/migration';
import { makePrivateDirectory, restrictTree } from '../kernel/private-files.js';
import { currentTracing } from '../kernel/tracing.js';
import { lockEmbeddedDatabase } from './embedded-lock.js';
import { migrationProvider } from './migrations/index.js';
import { kyselyPool } from './postgres-pool.js';
import type { Tables } from './schema.js';
import { SerializedPGliteDialect } from './serialized-pglite-dialect.js';
import { TransactionPoolingPostgresDialect } from './transaction-pooling-dialect.js';

export type Db = Kysely<Tables>;
export type Trx = Transaction<Tables>;
/** What a query function runs on: the database or a transaction of it. */
export type Executor = Db | Trx;

export interface Database {
  db: Db;
  kind: 'postgres' | 'pglite';
  /** The connection pool's use right now (PostgreSQL only; the embedded database has one connection). */
  poolUse(): PoolUse | undefined;
  /**
   * The embedded database's files as an uncompressed tarball, copied between two transactions (requests wait for
   * the copy); absent on PostgreSQL.
   */
  dumpDataDir?: () => Promise<Blob>;
  close(): Promise<void>;
}

export interface PoolUse {
  total: number;
  idle: number;
  /** Callers waiting for a connection. */
  waiting: number;
}

export interface DatabaseOptions {
  /** A PostgreSQL server; when absent, the embedded database. */
  databaseUrl?: string | undefined;
  /** The embedded database's folder; when absent (tests), an in-memory embedded database. */
  dataDir?: string | undefined;
  poolSize?: number;
  /** How long to wait for a PostgreSQL connection before failing (default 2 s). */
  connectTimeoutMs?: number;
  /**
   * The longest a PostgreSQL statement may run (default 5 s): cancelled on the server then, and the client gives up a
   * second later; a transaction may stay idle twice that long.
   */
  statementTimeoutMs?: number;
  /** A tarball of `dumpDataDir` that a new embedded database starts from (a restore into an empty folder). */
  loadDataDir?: Blob;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) {
    const statementTimeoutMs = options.statementTimeoutMs ?? 5000;
    // Loaded here, not with this module: OpenTelemetry's instrumentation patches `pg` as it is loaded, and it is
    // started after the modules but before the database is opened (decision 39).
    const { default: pg } = await import('pg');
    // Bounded waits everywhere, so that a database that is down or restarting fails a request in seconds. The
    // time-outs are no startup parameters (PgBouncer refuses them): the pool cancels a statement that outlives its
    // time-out, and each transaction sets its own (docs/deploy.md, PgBouncer).
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 2000,
      keepAlive: true,
    });
    // A connection that breaks (a server restart) is dropped from the pool and the next request opens a new
    // one; without these listeners its 'error' event would end the process.
    pool.on('error', () => {});
    pool.on('connect', (client) => client.on('error', () => {}));
    // The client gives up a second after the cancel: a server that hangs fails requests, too.
    const db = new Kysely<Tables>({
      dialect: new TransactionPoolingPostgresDialect(
        {
          pool: kyselyPool(pool, {
            cancelAfterMs: statementTimeoutMs,
            giveUpAfterMs: statementTimeoutMs + 1000,
          }),
        },
        {
          statement_timeout: statementTimeoutMs,
          idle_in_transaction_session_timeout: statementTimeoutMs * 2,
        },
      ),
    });
    return {
      db,
      kind: 'postgres',
      poolUse: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
      close: () => db.destroy(),
    };
  }
  const release = options.dataDir ? lockEmbeddedDatabase(options.dataDir) : () => {};
  try {
    const folder = options.dataDir ? path.join(options.dataDir, 'pglite') : undefined;
    // Owner-only before PGlite writes in it: PGlite creates a new database's files with mode 0666, so they are
    // restricted after the start too (the files PostgreSQL creates later are 0600 by itself).
    if (folder) makePrivateDirectory(folder);
    // Loaded only here: a service on PostgreSQL never pays the embedded engine's memory.
    const { PGlite } = await import('@electric-sql/pglite');
    const pglite = await PGlite.create(folder, {
      loadDataDir: options.loadDataDir,
      extensions: await embeddedExtensions(),
      // A start that replays the write-ahead log (after a crash, or from a restored copy) would otherwise arm a
      // repeating progress timer that outlives close() and keeps a command's process alive.
      startParams: [...PGlite.defaultStartParams, '-c', 'log_startup_progress_interval=0'],
    });
    if (folder) restrictTree(folder);
    const db = new Kysely<Tables>({ dialect: new SerializedPGliteDialect({ pglite }, currentTracing()) });
    return {
      db,
      kind: 'pglite',
      poolUse: () => undefined,
      // The serialized connection is held for the copy, so no transaction is half-way through it.
      dumpDataDir: () => db.connection().execute(() => pglite.dumpDataDir('none')),
      close: async () => {
        await db.destroy();
        release();
      },
    };
  } catch (error) {
    release();
    throw error;
  }
}

/**
 * The contrib extensions the migrations create (pg_trgm and btree_gin, migration 0021): PGlite must load them at
 * every start of a database that has them, from the package's own bundles (nothing is downloaded).
 */
export async function embeddedExtensions() {
  const [{ pg_trgm }, { btree_gin }] = await Promise.all([
    import('@electric-sql/pglite/contrib/pg_trgm'),
    import('@electric-sql/pglite/contrib/btree_gin'),
  ]);
  return { pg_trgm, btree_gin };
}

/** Kysely's own migration lock id, so that replicas of an older release, which take Kysely's lock, wait too. */
const MIGRATION_LOCK_ID = 3853314791062309107n;

/**
 * Brings the schema up to date; safe to run from several processes at once. The migrations run in one transaction
 * that first takes a transaction-level advisory lock: a second process waits for the first to commit, and the lock
 * goes with the transaction even through a pooler in transaction mode, or when a migration fails.
 */
export async function migrateToLatest(db: Db): Promise<string[]> {
  const results = await db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(${sql.lit(MIGRATION_LOCK_ID)})`.execute(trx);
    const outcome = await new Migrator({ db: trx, provider: migrationProvider }).migrateToLatest();
    if (outcome.error) throw outcome.error;
    return outcome.results;
  });
  return (results ?? [])
    .filter((result) => result.status === 'Success')
    .map((result) => result.migrationName);
}

/**
 * The migrations of this release not applied to the database, in order (all of them on an empty one). Reads only:
 * a database that a newer release migrated further is not behind, so older replicas keep running during a rollout.
 */
export async function pendingMigrations(db: Db): Promise<string[]> {
  const migrations = await new Migrator({ db, provider: migrationProvider }).getMigrations();
  return migrations
    .filter((migration) => migration.executedAt === undefined)
    .map((migration) => migration.name);
}
