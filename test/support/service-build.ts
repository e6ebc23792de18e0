// Global setup of the process tier: the service built once per run, into a copy of the project of its own.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { migrateToLatest, openDatabase } from '../../src/db/database.js';
import { ROOT } from './process.js';

/**
 * Compiles the service as `npm run build` does into a temporary copy of the project (package.json, bin/, dist/,
 * the console that `npm install` built, node_modules linked), which every process test of the run starts: the
 * checkout's own dist/ is never rewritten while tests read it. A type error elsewhere in the tree does not stop the
 * emit; a missing cli.js fails the run. Answers the teardown, which removes the copy.
 */
export default async function buildServiceOnce(project: TestProject): Promise<() => void> {
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'salesreps-build-'));
  copyProject(copy, ['package.json', 'bin']);
  const migrated = path.join(copy, 'migrated-data-dir');
  const migratedMade = makeMigratedDataDir(migrated);
  await promisify(execFile)(
    process.execPath,
    [
      path.join(ROOT, 'node_modules/typescript/bin/tsc'),
      '-p',
      'tsconfig.build.json',
      '--outDir',
      path.join(copy, 'dist'),
      '--sourceMap',
      'false',
    ],
    { cwd: ROOT },
  ).catch(() => {});
  if (!fs.existsSync(path.join(copy, 'dist', 'cli.js')))
    throw new Error(`the build emitted no ${copy}/dist/cli.js`);
  const console = path.join(ROOT, 'dist', 'console');
  if (fs.existsSync(console)) fs.cpSync(console, path.join(copy, 'dist', 'console'), { recursive: true });
  await migratedMade;
  project.provide('serviceBuild', copy);
  project.provide('migratedDataDir', migrated);
  return () => fs.rmSync(copy, { recursive: true, force: true });
}

/**
 * A DATA_DIR whose embedded database is migrated to this release, made while the build compiles: a test whose
 * service need not create its database copies it (`migratedDataDir`) instead of paying initdb and the migrations
 * in every process it starts.
 */
async function makeMigratedDataDir(dataDir: string): Promise<void> {
  const database = await openDatabase({ dataDir });
  try {
    await migrateToLatest(database.db);
  } finally {
    await database.close();
  }
}

/** Copies the project's files named into `copy`, and links its node_modules there. */
export function copyProject(copy: string, files: string[]): void {
  for (const file of files) fs.cpSync(path.join(ROOT, file), path.join(copy, file), { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
}
