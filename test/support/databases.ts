import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type Database, migrateToLatest, openDatabase } from '../../src/db/database.js';

export type DatabaseKind = 'pglite' | 'postgres';

/**
 * The databases every integration suite runs on: the embedded one always, and a PostgreSQL server when
 * TEST_DATABASE_URL names one (CI sets it; then a server that cannot be reached fails the run, never skips it).
 */
export const databaseKinds: DatabaseKind[] = process.env.TEST_DATABASE_URL
  ? ['pglite', 'postgres']
  : ['pglite'];

export interface TestDatabase extends Database {
  /** The connection string of the test's own PostgreSQL database (postgres only). */
  url: string | undefined;
}

/** A fresh, migrated database: in-memory PGlite, or a new database on the PostgreSQL server, dropped on close. */
export async function openTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  if (kind === 'pglite') {
    const database = await openDatabase({});
    await migrateToLatest(database.db);
    return { ...database, url: undefined };
  }
  const empty = await emptyPostgresDatabase('salesreps_test');
  const database = await openDatabase({ databaseUrl: empty.url, poolSize: 20 });
  await migrateToLatest(database.db);
  return {
    ...database,
    url: empty.url,
    close: async () => {
      await database.close();
      await empty.drop();
    },
  };
}

/** A new, empty database on the TEST_DATABASE_URL server, dropped by the function returned. */
export async function emptyPostgresDatabase(prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) throw new Error('TEST_DATABASE_URL is not set');
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const cleanup = new pg.Client({ connectionString: serverUrl });
      await cleanup.connect();
      await cleanup.query(`drop database if exists ${name} with (force)`);
      await cleanup.end();
    },
  };
}
