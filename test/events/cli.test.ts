import fs from 'node:fs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { databaseKinds, emptyPostgresDatabase } from '../support/databases.js';
import { builtService, migratedDataDir, runCommand, tempDir } from '../support/process.js';

// Each command is a process that opens the database; on a busy machine that takes seconds.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 180_000 });

const build = builtService();
const dirs: string[] = [];
const salesreps = (args: string[], env: Record<string, string>) =>
  runCommand(process.execPath, [build.cli, ...args], env);

afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe.each(databaseKinds)('salesreps events list on %s', (kind) => {
  let env: Record<string, string>;
  let drop = async () => {};

  beforeAll(async () => {
    // The embedded database copied migrated; on PostgreSQL, DATA_DIR holds only the key files.
    const dir =
      kind === 'pglite' ? migratedDataDir('salesreps-events-cli-') : tempDir('salesreps-events-cli-');
    dirs.push(dir);
    env = { DATA_DIR: dir, DEMO: 'false' };
    if (kind === 'postgres') {
      const database = await emptyPostgresDatabase('salesreps_events_cli');
      env.DATABASE_URL = database.url;
      drop = database.drop;
    }
  });
  afterAll(async () => {
    await drop();
  });

  it('prints the events of the organization newest first, a retry by the CLI among them with the cli actor', async () => {
    const created = await salesreps(['org', 'create', '--name', 'Acme', '--identity-org', 'org_events'], env);
    expect(created.code, created.stderr).toBe(0);
    const { organizationId } = JSON.parse(created.stdout) as { organizationId: string };
    // A dead effect of the organization, written while no command holds the database.
    const database = await openDatabase({ databaseUrl: env.DATABASE_URL, dataDir: env.DATA_DIR });
    const effect = await database.db
      .insertInto('effect')
      .values({
        organization_id: organizationId,
        ordering_key: 'rep_cli',
        channel: 'email',
        sales_rep_id: 'rep_cli',
        kind: 'email.welcome',
        payload: '{}',
        status: 'dead',
      })
      .returning(sql<string>`id::text`.as('id'))
      .executeTakeFirstOrThrow();
    await database.close();

    const retried = await salesreps(['effects', 'retry', '--id', effect.id], env);
    expect(retried.code, retried.stderr).toBe(0);
    const listed = await salesreps(['events', 'list', '--org', 'org_events'], env);
    expect(listed.code, listed.stderr).toBe(0);
    const events = JSON.parse(listed.stdout) as {
      action: string;
      actor: { type: string };
      targets: unknown;
    }[];
    expect(events).toMatchObject([
      {
        action: 'effect.retried',
        actor: { type: 'cli' },
        organizationId,
        requestId: null,
        targets: [{ type: 'effect', id: effect.id }],
      },
    ]);
    const filtered = await salesreps(
      ['events', 'list', '--org', 'org_events', '--action', 'customer.created'],
      env,
    );
    expect(filtered.code, filtered.stderr).toBe(0);
    expect(JSON.parse(filtered.stdout)).toEqual([]);
  });

  it('refuses an unknown organization, action or limit with exit status 2 and nothing on stdout', async () => {
    for (const args of [
      ['events', 'list', '--org', 'org_nowhere'],
      ['events', 'list', '--org', 'org_events', '--action', 'sales_rep.exploded'],
      ['events', 'list', '--org', 'org_events', '--limit', '0'],
      ['events', 'list'],
    ]) {
      const result = await salesreps(args, env);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^salesreps: /);
    }
  });
});
