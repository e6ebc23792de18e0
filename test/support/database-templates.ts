// Global setup of the tiers that use a database: the migrated templates every test database is copied from.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kysely } from 'kysely';
import type { TestProject } from 'vitest/node';
import { embeddedExtensions, migrateToLatest, openDatabase } from '../../src/db/database.js';
import type { Tables } from '../../src/db/schema.js';
import { SerializedPGliteDialect } from '../../src/db/serialized-pglite-dialect.js';
import type { DatabaseTemplates } from './databases.js';
import { onServer } from './postgres-server.js';

/** The templates of this run, made by the first tier that starts and shared by the others (one main process). */
interface RunTemplates {
  made: Promise<{ templates: DatabaseTemplates; remove(): Promise<void> }>;
  tiers: number;
}

const run = globalThis as typeof globalThis & { salesrepsTemplates?: RunTemplates };

/**
 * Gives the tier the run's database templates, made once for every tier that uses them. Answers the teardown: the
 * last tier to end drops them.
 */
export default async function provideDatabaseTemplates(project: TestProject): Promise<() => Promise<void>> {
  run.salesrepsTemplates ??= { made: makeDatabaseTemplates(), tiers: 0 };
  const shared = run.salesrepsTemplates;
  shared.tiers += 1;
  project.provide('databaseTemplates', (await shared.made).templates);
  return async () => {
    shared.tiers -= 1;
    if (shared.tiers > 0) return;
    run.salesrepsTemplates = undefined;
    await (await shared.made).remove();
  };
}

/**
 * Creates and migrates each engine's database once per run: an embedded database dumped before and after its
 * migrations (initdb is most of the cost of opening one), and a TEMPLATE database on the PostgreSQL server that each
 * test database is created from. Says which databases the suites run on, so that a run without PostgreSQL never
 * passes for a full one.
 */
async function makeDatabaseTemplates(): Promise<{ templates: DatabaseTemplates; remove(): Promise<void> }> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (serverUrl) {
    process.stdout.write('Suites run on the embedded database and on PostgreSQL (TEST_DATABASE_URL).\n');
  } else {
    process.stdout.write(
      'Suites run on the embedded database only: the PostgreSQL variants and the replica tests are not run. ' +
        'Set TEST_DATABASE_URL=postgres://... to run them too (CI does).\n',
    );
  }
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'salesreps-templates-'));
  const pgliteEmpty = path.join(folder, 'empty.tar');
  const pgliteMigrated = path.join(folder, 'migrated.tar');
  const { PGlite } = await import('@electric-sql/pglite');
  const pglite = await PGlite.create({ extensions: await embeddedExtensions() });
  const dump = async (file: string) =>
    fs.writeFileSync(file, Buffer.from(await (await pglite.dumpDataDir('none')).arrayBuffer()));
  await dump(pgliteEmpty);
  const embedded = new Kysely<Tables>({ dialect: new SerializedPGliteDialect({ pglite }) });
  await migrateToLatest(embedded);
  await dump(pgliteMigrated);
  await embedded.destroy();

  let postgres: string | undefined;
  if (serverUrl) {
    postgres = `salesreps_template_${randomBytes(6).toString('hex')}`;
    await onServer(serverUrl, `create database ${postgres}`);
    const url = new URL(serverUrl);
    url.pathname = `/${postgres}`;
    const template = await openDatabase({ databaseUrl: url.toString(), poolSize: 1 });
    await migrateToLatest(template.db);
    // Closed before any copy: CREATE DATABASE ... TEMPLATE refuses a template that has connections.
    await template.close();
  }
  return {
    templates: { pgliteEmpty, pgliteMigrated, postgres },
    remove: async () => {
      if (serverUrl && postgres)
        await onServer(serverUrl, `drop database if exists ${postgres} with (force)`);
      fs.rmSync(folder, { recursive: true, force: true });
    },
  };
}
