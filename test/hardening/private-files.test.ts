import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../effects/support/wait.js';
import { type DatabaseKind, databaseKinds, emptyPostgresDatabase } from '../support/databases.js';
import { builtService } from '../support/process.js';

interface RunningService {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

/**
 * `salesreps serve` started by a shell with `umask 000`, the most permissive there is: whatever the service creates
 * is then exactly as open as the mode it asks for. The shell also leaves a file of its own in `probe`, to show that
 * the umask really was 0.
 */
async function startWithOpenUmask(
  cli: string,
  probe: string,
  env: Record<string, string>,
): Promise<RunningService> {
  const child = spawn('/bin/sh', ['-c', 'umask 000 && : > "$PROBE" && exec "$NODE" "$CLI" serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE: process.execPath,
      CLI: cli,
      PROBE: probe,
      HOST: '127.0.0.1',
      PORT: '0',
      DEMO: 'true',
      MAIL: 'file',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', () => {
      const match = output.match(/Server listening at (http:\/\/127\.0\.0\.1:\d+)/);
      if (match?.[1]) resolve(match[1]);
    });
    void exited.then((code) => reject(new Error(`The service exited with ${code}:\n${output}`)));
  });
  return { child, url, exited };
}

function stop(service: RunningService): Promise<number | null> {
  if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGTERM');
  return service.exited;
}

/** Every folder and file under `root` (itself included) with its permission bits, by path relative to it. */
function modesUnder(root: string): { folders: Map<string, number>; files: Map<string, number> } {
  const folders = new Map([['.', fs.statSync(root).mode & 0o7777]]);
  const files = new Map<string, number>();
  for (const entry of fs.readdirSync(root, { withFileTypes: true, recursive: true })) {
    const full = path.join(entry.parentPath, entry.name);
    const mode = fs.lstatSync(full).mode & 0o7777;
    (entry.isDirectory() ? folders : files).set(path.relative(root, full), mode);
  }
  return { folders, files };
}

/** The entries whose mode is not the owner-only one, as `path mode` lines (empty when all are owner-only). */
function notOwnerOnly(root: string): string[] {
  const { folders, files } = modesUnder(root);
  return [
    ...[...folders].filter(([, mode]) => mode !== 0o700),
    ...[...files].filter(([, mode]) => mode !== 0o600),
  ].map(([name, mode]) => `${name} ${mode.toString(8)}`);
}

/**
 * What the service keeps under DATA_DIR (the embedded database, its lock, the local issuer key, written mail) is
 * the owner's alone: folders 0700 and files 0600, whatever the umask (docs/operations-hardening.md, "Files").
 */
describe.each(databaseKinds)('files under DATA_DIR on %s', (kind: DatabaseKind) => {
  const build = builtService();
  let workDir: string;
  let dataDir: string;
  let database: { url: string; drop(): Promise<void> } | undefined;
  let env: Record<string, string>;

  beforeAll(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'salesreps-files-'));
    // Not there yet: the service creates it.
    dataDir = path.join(workDir, 'data', 'service');
    if (kind === 'postgres') database = await emptyPostgresDatabase('salesreps_files');
    env = { DATA_DIR: dataDir, ...(database ? { DATABASE_URL: database.url } : {}) };
  }, 300_000);
  afterAll(async () => {
    await database?.drop();
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  const addRepAndAwaitMail = async (service: RunningService, email: string) => {
    const token = execFileSync(
      process.execPath,
      [build.cli, 'token', '--org', 'demo_org', '--user', 'files-admin', '--role', 'Admin'],
      { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' },
    ).trim();
    const response = await fetch(`${service.url}/api/organizations/salesreps`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ firstName: 'File', lastName: 'Mode', email, repNumber: email }),
    });
    expect(response.status).toBe(200);
    const mailDir = path.join(dataDir, 'mail');
    await eventually(() => {
      // Written mails only: a mail being written sits under a temporary name until it is renamed.
      const mails = (fs.existsSync(mailDir) ? fs.readdirSync(mailDir) : []).filter((name) =>
        name.endsWith('.eml'),
      );
      expect(
        mails.filter((name) => fs.readFileSync(path.join(mailDir, name), 'utf8').includes(email)),
      ).toHaveLength(1);
    }, 30_000);
  };

  it('creates every folder 0700 and every file 0600 under a umask of 000: database, lock, issuer key, mail', async () => {
    const probe = path.join(workDir, 'probe');
    const service = await startWithOpenUmask(build.cli, probe, env);
    try {
      // The shell's own file shows the umask the service ran with.
      expect(fs.statSync(probe).mode & 0o777).toBe(0o666);
      await addRepAndAwaitMail(service, 'first.mode@example.com');
      const { files } = modesUnder(dataDir);
      const names = [...files.keys()];
      expect(names).toContain('issuer-key.json');
      expect(names.some((name) => /^mail.first\.mode@example\.com_.+_effect-\d+\.eml$/.test(name))).toBe(
        true,
      );
      expect(names.some((name) => /^mail.first\.mode@example\.com_.+_effect-\d+\.txt$/.test(name))).toBe(
        true,
      );
      if (kind === 'pglite') {
        expect(names).toContain('pglite.lock');
        expect(names.filter((name) => name.startsWith(`pglite${path.sep}`)).length).toBeGreaterThan(100);
      }
      expect(notOwnerOnly(dataDir)).toEqual([]);
      // The folder the service made above DATA_DIR, too.
      expect(fs.statSync(path.dirname(dataDir)).mode & 0o777).toBe(0o700);
    } finally {
      expect(await stop(service)).toBe(0);
    }
    // What the shutdown wrote (the embedded database's last checkpoint) is owner-only as well.
    expect(notOwnerOnly(dataDir)).toEqual([]);
  }, 180_000);

  it('takes group and others off what an earlier release left open, at the next start', async () => {
    // As an earlier release (or a copy made with a loose umask) left them: open folders, the embedded database's
    // files 0666, mails 0644. The issuer key was always written 0600.
    const before = modesUnder(dataDir);
    for (const name of before.folders.keys()) fs.chmodSync(path.join(dataDir, name), 0o777);
    const oldMails: string[] = [];
    for (const name of before.files.keys()) {
      if (name.startsWith(`pglite${path.sep}`)) fs.chmodSync(path.join(dataDir, name), 0o666);
      if (name.startsWith(`mail${path.sep}`)) {
        fs.chmodSync(path.join(dataDir, name), 0o644);
        oldMails.push(`${name} 644`);
      }
    }
    const service = await startWithOpenUmask(build.cli, path.join(workDir, 'probe-again'), env);
    try {
      await addRepAndAwaitMail(service, 'second.mode@example.com');
      // Old mails keep their mode, out of reach in the mail folder, now 0700. With PostgreSQL, an existing DATA_DIR
      // itself is left as it is (nothing of the database lives in it); everything the service keeps in it is
      // owner-only.
      const expected = kind === 'pglite' ? oldMails : ['. 777', ...oldMails];
      expect(notOwnerOnly(dataDir).sort()).toEqual(expected.sort());
    } finally {
      expect(await stop(service)).toBe(0);
    }
  }, 180_000);
});
