// Migrations as a step of their own: `salesreps migrate` applies them, and `serve` with MIGRATE=false only checks.
import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { embeddedExtensions } from '../../src/db/database.js';
import { builtService, runCommand, startServer, tempDir } from '../support/process.js';

// Each start creates or opens the embedded database: a while on a loaded machine.
vi.setConfig({ testTimeout: 240_000, hookTimeout: 120_000 });
const LISTEN_WITHIN_MS = 150_000;

describe('serve with MIGRATE=false (or --no-migrate) and salesreps migrate', () => {
  const cli = () => builtService().cli;
  let dataDir: string;

  beforeAll(() => {
    dataDir = tempDir('salesreps-migrate-step-');
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  async function expectServesWithoutMigrating(args: string[], env: Record<string, string>): Promise<void> {
    const server = await startServer(
      process.execPath,
      [cli(), 'serve', ...args],
      { DATA_DIR: dataDir, DEMO: 'false', ...env },
      LISTEN_WITHIN_MS,
    );
    try {
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }

  it('refuses to start on a database without the migrations, in one line naming the command, and frees the data', async () => {
    const finished = await runCommand(process.execPath, [cli(), 'serve'], {
      DATA_DIR: dataDir,
      MIGRATE: 'false',
      DEMO: 'false',
      PORT: '0',
    });
    expect(finished.code, finished.stderr).toBe(1);
    expect(finished.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(
        /^salesreps: the embedded database in .+ lacks \d+ migration\(s\) of this release, from 0001_sales_reps \(MIGRATE=false or --no-migrate\): run `salesreps migrate` first$/,
      ),
    ]);
    expect(finished.stdout).not.toContain('Server listening');
    expect(fs.existsSync(path.join(dataDir, 'pglite.lock'))).toBe(false);
  });

  it('salesreps migrate applies them, even with MIGRATE=false, and says so', async () => {
    const migrated = await runCommand(process.execPath, [cli(), 'migrate'], {
      DATA_DIR: dataDir,
      MIGRATE: 'false',
    });
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stdout).toMatch(
      /^Applied \d+ migration\(s\): 0001_sales_reps, .+\. The schema is up to date\.$/m,
    );
    const again = await runCommand(process.execPath, [cli(), 'migrate'], { DATA_DIR: dataDir });
    expect(again.stdout.trim()).toBe('The schema was up to date: no migration to apply.');
  });

  it('starts on the migrated database with --no-migrate, and with MIGRATE=false', async () => {
    await expectServesWithoutMigrating(['--no-migrate'], {});
    await expectServesWithoutMigrating([], { MIGRATE: 'false' });
  });

  it('keeps starting with MIGRATE=false on a database a newer release migrated further (a rollout in progress)', async () => {
    const pglite = await PGlite.create(path.join(dataDir, 'pglite'), {
      extensions: await embeddedExtensions(),
    });
    await pglite.query(
      `insert into kysely_migration (name, timestamp) values ('9999_from_a_newer_release', now()::text)`,
    );
    await pglite.close();
    await expectServesWithoutMigrating(['--no-migrate'], {});
  });
});
