// The test databases: a fresh one per test file (or per test), copied from the templates the global setup made.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { PGlite, PGliteOptions } from '@electric-sql/pglite';
import { Kysely, type PGliteDialectConfig } from 'kysely';
import { Migrator } from 'kysely/migration';
import { afterEach, inject } from 'vitest';
import { type Database, embeddedExtensions, openDatabase } from '../../src/db/database.js';
import { migrationProvider } from '../../src/db/migrations/index.js';
import type { Tables } from '../../src/db/schema.js';
import { SerializedPGliteDialect } from '../../src/db/serialized-pglite-dialect.js';
import { onServer } from './postgres-server.js';

export type DatabaseKind = 'pglite' | 'postgres';

/**
 * The databases every integration suite runs on: the embedded one always, and a PostgreSQL server when
 * TEST_DATABASE_URL names one (CI sets it; then a server that cannot be reached fails the run, never skips it).
 */
export const databaseKinds: DatabaseKind[] = process.env.TEST_DATABASE_URL
  ? ['pglite', 'postgres']
  : ['pglite'];

/** What the global setup (test/support/database-templates.ts) made once for the whole run. */
export interface DatabaseTemplates {
  /** An uncompressed dump of an embedded database just created (initdb done, no migration run). */
  pgliteEmpty: string;
  /** The same, with every migration run. */
  pgliteMigrated: string;
  /** The migrated template database on the TEST_DATABASE_URL server (when it is set). */
  postgres: string | undefined;
}

declare module 'vitest' {
  export interface ProvidedContext {
    databaseTemplates: DatabaseTemplates;
  }
}

export interface TestDatabase extends Database {
  /** The connection string of the test's own PostgreSQL database (postgres only). */
  url: string | undefined;
}

export interface TestDatabaseOptions {
  /** False for an empty database, as a first start finds it (a migration's own test); migrated by default. */
  migrated?: boolean;
}

/**
 * A fresh database of the kind, migrated unless asked otherwise: an in-memory PGlite loaded from the run's
 * snapshot, or a new database on the PostgreSQL server copied from the run's template, dropped on close.
 */
export async function openTestDatabase(
  kind: DatabaseKind,
  options: TestDatabaseOptions = {},
): Promise<TestDatabase> {
  const migrated = options.migrated ?? true;
  if (kind === 'pglite') {
    const db = serialized(await startEmbedded(migrated ? 'pgliteMigrated' : 'pgliteEmpty'));
    return { db, kind: 'pglite', poolUse: () => undefined, close: () => db.destroy(), url: undefined };
  }
  const templates = inject('databaseTemplates');
  const copy = await emptyPostgresDatabase('salesreps_test', migrated ? templates.postgres : undefined);
  const database = await openDatabase({ databaseUrl: copy.url, poolSize: 20 });
  return {
    ...database,
    url: copy.url,
    close: async () => {
      await database.close();
      await copy.drop();
    },
  };
}

/**
 * For a migration's own test, called in its describe block: opens an empty database of the kind, as a first start
 * finds it, with a Migrator of the service's migrations; each database it opens is closed after its test.
 */
export function unmigratedDatabases(kind: DatabaseKind) {
  const opened: TestDatabase[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((database) => database.close()));
  });
  return async () => {
    const database = await openTestDatabase(kind, { migrated: false });
    opened.push(database);
    return {
      database,
      db: database.db,
      migrator: new Migrator({ db: database.db, provider: migrationProvider }),
    };
  };
}

/**
 * A new database on the TEST_DATABASE_URL server, empty or a copy of `template`, dropped by the function returned.
 * Nothing may be connected to the template while it is copied: only the global setup ever connects to it.
 */
export async function emptyPostgresDatabase(
  prefix: string,
  template?: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) throw new Error('TEST_DATABASE_URL is not set');
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await onServer(serverUrl, `create database ${name}${template ? ` template ${template}` : ''}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => onServer(serverUrl, `drop database if exists ${name} with (force)`),
  };
}

type WasmModule = NonNullable<PGliteOptions['pgliteWasmModule']>;

/** Node's WebAssembly global, which the project's type libraries (ES2023, no DOM) do not declare. */
const wasm = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<WasmModule> } })
  .WebAssembly;

/** The engine's compiled WebAssembly and file bundle, loaded once per worker and shared by every database it opens. */
interface EmbeddedEngine {
  pgliteWasmModule: WasmModule;
  initdbWasmModule: WasmModule;
  fsBundle: Blob;
  snapshots: Map<string, Blob>;
}

let engine: Promise<EmbeddedEngine> | undefined;

function embeddedEngine(): Promise<EmbeddedEngine> {
  engine ??= (async () => {
    const dist = path.dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
    const [pgliteWasmModule, initdbWasmModule] = await Promise.all([
      wasm.compile(fs.readFileSync(path.join(dist, 'pglite.wasm'))),
      wasm.compile(fs.readFileSync(path.join(dist, 'initdb.wasm'))),
    ]);
    const fsBundle = new Blob([fs.readFileSync(path.join(dist, 'pglite.data'))]);
    return { pgliteWasmModule, initdbWasmModule, fsBundle, snapshots: new Map() };
  })();
  return engine;
}

/** An in-memory PGlite started from one of the run's snapshots, as `openDatabase({})` would open it. */
async function startEmbedded(snapshot: 'pgliteEmpty' | 'pgliteMigrated'): Promise<PGlite> {
  const { pgliteWasmModule, initdbWasmModule, fsBundle, snapshots } = await embeddedEngine();
  const file = inject('databaseTemplates')[snapshot];
  let loadDataDir = snapshots.get(file);
  if (!loadDataDir) {
    loadDataDir = new Blob([fs.readFileSync(file)]);
    snapshots.set(file, loadDataDir);
  }
  const { PGlite } = await import('@electric-sql/pglite');
  return PGlite.create({
    loadDataDir,
    pgliteWasmModule,
    initdbWasmModule,
    fsBundle,
    extensions: await embeddedExtensions(),
  });
}

function serialized(pglite: PGliteDialectConfig['pglite']): Kysely<Tables> {
  return new Kysely<Tables>({ dialect: new SerializedPGliteDialect({ pglite }) });
}
