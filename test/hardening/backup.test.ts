// `salesreps backup` copies the embedded database and its keys while the service serves; `restore` starts a new
// DATA_DIR from the copy with the same data and the same issuer.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  builtService,
  type Finished,
  migratedDataDir,
  type RunningServer,
  runCommand,
  startServiceProcess,
  tempDir,
} from '../support/process.js';

const build = builtService();
const salesreps = (args: string[], env: Record<string, string>): Promise<Finished> =>
  runCommand(process.execPath, [build.cli, ...args], env);

describe('backup while the service runs, and restore into an empty DATA_DIR', () => {
  const folders: string[] = [];
  const running: RunningServer[] = [];
  let original: string;
  let backupFile: string;
  let token: string;

  const folder = (prefix: string, migrated = false) => {
    const made = migrated ? migratedDataDir(prefix) : tempDir(prefix);
    folders.push(made);
    return made;
  };
  const start = async (dataDir: string) => {
    const server = await startServiceProcess(build.cli, { DATA_DIR: dataDir });
    running.push(server);
    return server;
  };
  const addRep = (server: RunningServer, n: string) =>
    fetch(`${server.url}/api/organizations/salesreps`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        firstName: 'Rep',
        lastName: n,
        email: `rep.${n}@example.com`,
        repNumber: `R-${n}`,
      }),
    });
  const repEmails = async (server: RunningServer) => {
    const response = await fetch(`${server.url}/api/organizations/salesreps?pageSize=100`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { email: string }[]).map((rep) => rep.email).sort();
  };

  beforeAll(async () => {
    original = folder('salesreps-backup-', true);
    backupFile = path.join(folder('salesreps-backup-file-'), 'salesreps.backup');
    const env = { DATA_DIR: original };
    const created = await salesreps(
      ['org', 'create', '--name', 'Backup Ltd', '--identity-org', 'org_backup'],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    const minted = await salesreps(
      ['token', '--org', 'org_backup', '--user', 'b-admin', '--role', 'Admin'],
      env,
    );
    expect(minted.code, minted.stderr).toBe(0);
    token = minted.stdout.trim();
    // Each command opens (the first creates) the embedded database: minutes on a loaded machine.
  }, 300_000);
  afterAll(async () => {
    for (const server of running) await server.stop('SIGKILL');
    for (const made of folders) fs.rmSync(made, { recursive: true, force: true });
  });

  it('copies the data written before it and the issuer key, owner-only, while the service keeps answering writes', async () => {
    const service = await start(original);
    expect((await addRep(service, 'before')).status).toBe(200);

    const backup = salesreps(['backup', '--out', backupFile], { DATA_DIR: original });
    // The service keeps serving writes while the backup runs, and after it.
    let during = 0;
    let finished = false;
    void backup.then(() => {
      finished = true;
    });
    // At most one page of them, so that one list shows every rep.
    while (!finished && during < 90) {
      expect((await addRep(service, `during-${during}`)).status).toBe(200);
      during++;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(during).toBeGreaterThan(0);
    const result = await backup;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('from the running service');
    expect((await addRep(service, 'after')).status).toBe(200);
    expect(await service.stop()).toBe(0);

    expect(fs.statSync(backupFile).mode & 0o777).toBe(0o600);

    const restored = folder('salesreps-restored-');
    const restore = await salesreps(['restore', '--from', backupFile], { DATA_DIR: restored });
    expect(restore.code, restore.stderr).toBe(0);
    expect(fs.readFileSync(path.join(restored, 'issuer-key.json'), 'utf8')).toBe(
      fs.readFileSync(path.join(original, 'issuer-key.json'), 'utf8'),
    );

    const fromBackup = await start(restored);
    // The token the original issuer signed verifies: the key came with the data.
    const emails = await repEmails(fromBackup);
    expect(emails).toContain('rep.before@example.com');
    expect(emails).not.toContain('rep.after@example.com');
    // A consistent copy: the writes it holds are a prefix of those made during the backup, with no gap.
    const duringKept = emails.filter((email) => email.startsWith('rep.during-')).length;
    expect(emails).toEqual(
      [
        'rep.before@example.com',
        ...Array.from({ length: duringKept }, (_, n) => `rep.during-${n}@example.com`),
      ].sort(),
    );
    expect(await fromBackup.stop()).toBe(0);
  }, 600_000);

  it('refuses to restore into a DATA_DIR that is not empty, in one line, and leaves it as it was', async () => {
    const before = fs.readdirSync(original).sort();
    const refused = await salesreps(['restore', '--from', backupFile], { DATA_DIR: original });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toBe(
      `salesreps: DATA_DIR ${original} is not empty: restore only into an empty folder (or a new one), never over a database.\n`,
    );
    expect(fs.readdirSync(original).sort()).toEqual(before);
  }, 120_000);

  it('backs up from the folder itself when no service runs', async () => {
    const out = path.join(path.dirname(backupFile), 'stopped.backup');
    const backup = await salesreps(['backup', '--out', out], { DATA_DIR: original });
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout).toContain('with no service running');
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
  }, 300_000);

  it('points to pg_dump and exits non-zero on PostgreSQL (DATABASE_URL)', async () => {
    const env = {
      DATA_DIR: folder('salesreps-backup-pg-'),
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/none',
    };
    const backup = await salesreps(['backup', '--out', path.join(env.DATA_DIR, 'x')], env);
    expect(backup.code).not.toBe(0);
    expect(backup.stderr).toMatch(/^salesreps: DATABASE_URL is set: back up .* pg_dump .*\n$/);
  });
});
