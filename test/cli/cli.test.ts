import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { migrationProvider } from '../../src/db/migrations/index.js';
import { databaseKinds, emptyPostgresDatabase } from '../support/databases.js';
import {
  builtService,
  migratedDataDir,
  type RunningServer,
  runCommand,
  startServer,
  tempDir,
} from '../support/process.js';
import { decodeClaims } from './support.js';

const MIGRATIONS = Object.keys(await migrationProvider.getMigrations()).sort();

// Every test starts processes that open the embedded database; on a busy machine that takes seconds each.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 180_000 });
const JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;

const build = builtService();
const dirs: string[] = [];
const salesreps = (args: string[], env: Record<string, string>) =>
  runCommand(process.execPath, [build.cli, ...args], env);

afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function dataDir(migrated = false): string {
  const dir = migrated ? migratedDataDir('salesreps-cli-') : tempDir('salesreps-cli-');
  dirs.push(dir);
  return dir;
}

describe('the salesreps command', () => {
  it('runs as `npx salesreps --help` in the checkout and prints the usage', async () => {
    const result = await runCommand('npx', ['--no-install', 'salesreps', '--help'], {}, 120_000);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Usage: salesreps <command>/);
    for (const command of ['serve', 'migrate', 'org create', 'token'])
      expect(result.stdout).toContain(command);
  });

  it('answers an unknown command with the usage on stderr and exit status 2', async () => {
    const result = await salesreps(['frobnicate'], { DATA_DIR: dataDir() });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('Unknown command "frobnicate"');
    expect(result.stderr).toContain('Usage: salesreps <command>');
  });

  it('stops on a bad configuration value with a message naming the variable, exit status 2, no stack', async () => {
    for (const [name, value] of [
      ['PORT', 'abc'],
      ['DATABASE_POOL_SIZE', '0'],
      ['AUTH_CLOCK_TOLERANCE_SECONDS', '300'],
      ['DATABASE_URL', 'mysql://localhost/db'],
    ] as const) {
      const result = await salesreps(['serve'], { DATA_DIR: dataDir(), [name]: value });
      expect(result.code, `${name}=${value}`).toBe(2);
      expect(result.stderr).toMatch(new RegExp(`^salesreps: ${name} must `));
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('refuses to mint a token when AUTH_JWKS_URL is set, printing nothing on stdout', async () => {
    const result = await salesreps(['token', '--org', 'org_a', '--user', 'u1', '--role', 'Admin'], {
      DATA_DIR: dataDir(),
      AUTH_JWKS_URL: 'https://idp.example.com/.well-known/jwks.json',
    });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('AUTH_JWKS_URL is set');
  });

  it('refuses a token request without --org, --user or a known --role, or with a bad --ttl', async () => {
    const dir = dataDir();
    for (const args of [
      ['--user', 'u1', '--role', 'Admin'],
      ['--org', 'org_a', '--role', 'Admin'],
      ['--org', 'org_a', '--user', 'u1'],
      ['--org', 'org_a', '--user', 'u1', '--role', 'Root'],
      ['--org', 'org_a', '--user', 'u1', '--role', 'Admin', '--ttl', '0'],
    ]) {
      const result = await salesreps(['token', ...args], { DATA_DIR: dir });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^salesreps: /);
    }
  });
});

describe.each(databaseKinds)('the salesreps command on %s', (kind) => {
  let env: Record<string, string>;
  let drop = async () => {};
  let server: RunningServer | undefined;

  beforeAll(async () => {
    env = { DATA_DIR: dataDir(), DEMO: 'false' };
    if (kind === 'postgres') {
      const database = await emptyPostgresDatabase('salesreps_cli');
      env.DATABASE_URL = database.url;
      drop = database.drop;
    }
  });
  afterAll(async () => {
    await server?.stop();
    await drop();
  });

  it('migrate prints the migrations it applied, then that the schema was up to date', async () => {
    const first = await salesreps(['migrate'], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe(
      `Applied ${MIGRATIONS.length} migration(s): ${MIGRATIONS.join(', ')}. The schema is up to date.\n`,
    );
    const second = await salesreps(['migrate'], env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toBe('The schema was up to date: no migration to apply.\n');
  });

  it('org create prints the organization as JSON; a second with the same identity org fails clearly, exit 2', async () => {
    const created = await salesreps(
      ['org', 'create', '--name', 'Acme Distributors', '--identity-org', 'org_acme'],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    const organization = JSON.parse(created.stdout);
    expect(organization).toEqual({
      organizationId: expect.stringMatching(/^[0-9A-Za-z]{22}$/),
      organizationName: 'Acme Distributors',
      identityOrganizationId: 'org_acme',
    });
    const duplicate = await salesreps(
      ['org', 'create', '--name', 'Other', '--identity-org', 'org_acme'],
      env,
    );
    expect(duplicate.code).toBe(2);
    expect(duplicate.stdout).toBe('');
    expect(duplicate.stderr).toBe(
      'salesreps: An organization with identity organization id "org_acme" exists already.\n',
    );
    const invalid = await salesreps(['org', 'create', '--name', 'Bad', '--identity-org', 'has spaces'], env);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toBe(
      'salesreps: The identity organization id must be 1 to 100 letters, digits, or _ . : -\n',
    );
  });

  it('token prints only a token, with the --ttl and every --role asked, that the running server accepts', async () => {
    const created = await salesreps(
      ['org', 'create', '--name', 'Token Traders', '--identity-org', 'org_token'],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    server = await startServer(process.execPath, [build.cli, 'serve'], env);
    // On the embedded database the server holds the database now; the token needs only the issuer key.
    const minted = await salesreps(
      [
        'token',
        '--org',
        'org_token',
        '--user',
        'cli-admin',
        '--role',
        'Admin',
        '--role',
        'SalesRep',
        '--ttl',
        '120',
      ],
      env,
    );
    expect(minted.code, minted.stderr).toBe(0);
    expect(minted.stderr).toBe('');
    expect(minted.stdout.endsWith('\n')).toBe(true);
    const token = minted.stdout.trim();
    expect(token).toMatch(JWT);
    const claims = decodeClaims(token);
    expect(claims).toMatchObject({
      UserId: 'cli-admin',
      sub: 'cli-admin',
      org_code: 'org_token',
      roles: ['Admin', 'SalesRep'],
    });
    expect(Number(claims.exp) - Number(claims.iat)).toBe(120);

    const added = await fetch(`${server.url}/api/organizations/salesreps`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        firstName: 'Cli',
        lastName: 'Rep',
        email: 'cli.rep@example.com',
        repNumber: 'CLI-1',
      }),
    });
    expect(added.status).toBe(200);
    const listed = await fetch(`${server.url}/api/organizations/salesreps`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(listed.status).toBe(200);
    expect(await listed.json()).toEqual([expect.objectContaining({ email: 'cli.rep@example.com' })]);
    // A token for an organization nobody created is minted, and refused by the server.
    const stranger = await salesreps(['token', '--org', 'org_nobody', '--user', 'x', '--role', 'Admin'], env);
    const refused = await fetch(`${server.url}/api/organizations/salesreps`, {
      headers: { authorization: `Bearer ${stranger.stdout.trim()}` },
    });
    expect(refused.status).toBe(403);
  });
});

describe('the embedded database lock', () => {
  let dir: string;
  let env: Record<string, string>;
  let admin: string;
  const running: RunningServer[] = [];
  const start = async (onEnv: Record<string, string>) => {
    const server = await startServer(process.execPath, [build.cli, 'serve'], onEnv);
    running.push(server);
    return server;
  };
  const listReps = async (server: RunningServer) => {
    const response = await fetch(`${server.url}/api/organizations/salesreps`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { email: string }[]).map((rep) => rep.email);
  };

  beforeAll(async () => {
    dir = dataDir(true);
    env = { DATA_DIR: dir, DEMO: 'false' };
    expect(
      (await salesreps(['org', 'create', '--name', 'Lock Ltd', '--identity-org', 'org_lock'], env)).code,
    ).toBe(0);
    admin = (
      await salesreps(['token', '--org', 'org_lock', '--user', 'lock-admin', '--role', 'Admin'], env)
    ).stdout.trim();
  });
  afterAll(async () => {
    for (const server of running) await server.stop('SIGKILL');
  });

  it('stops a second serve or an org create at once with a clear message while a server holds the data dir', async () => {
    const first = await start(env);
    const added = await fetch(`${first.url}/api/organizations/salesreps`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        firstName: 'Kept',
        lastName: 'Safe',
        email: 'kept@example.com',
        repNumber: 'L-1',
      }),
    });
    expect(added.status).toBe(200);

    const holder = `The embedded database in ${dir} is in use by process ${first.child.pid}`;
    const second = await salesreps(['serve'], { ...env, PORT: '0' });
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(holder);
    expect(second.stderr).not.toMatch(/\n\s+at /);
    expect(second.ms).toBeLessThan(10_000);
    const orgCreate = await salesreps(['org', 'create', '--name', 'X', '--identity-org', 'org_x'], env);
    expect(orgCreate.code).toBe(2);
    expect(orgCreate.stderr).toContain(holder);
    expect(orgCreate.ms).toBeLessThan(10_000);

    // The running server is untouched: it still answers, with its data.
    expect(await listReps(first)).toEqual(['kept@example.com']);
    expect((await fetch(`${first.url}/readyz`)).status).toBe(200);
  });

  it('takes over the lock a SIGKILLed server left, with the data intact', async () => {
    const killed = running.pop();
    if (!killed) throw new Error('the server of the previous test is not running');
    expect(await killed.stop('SIGKILL')).toBeNull();
    expect(fs.readFileSync(`${dir}/pglite.lock`, 'utf8')).toBe(String(killed.child.pid));
    const next = await start(env);
    expect(await listReps(next)).toEqual(['kept@example.com']);
    expect(fs.readFileSync(`${dir}/pglite.lock`, 'utf8')).toBe(String(next.child.pid));
    expect(await next.stop('SIGTERM')).toBe(0);
    running.pop();
    // A clean stop releases the lock.
    expect(fs.existsSync(`${dir}/pglite.lock`)).toBe(false);
  });

  it('lets exactly one of two servers started at the same moment run', async () => {
    const fresh = { DATA_DIR: dataDir(), DEMO: 'false' };
    const outcomes = await Promise.allSettled([start(fresh), start(fresh)]);
    const ran = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    const refused = outcomes.filter((outcome) => outcome.status === 'rejected');
    expect(ran).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(String((refused[0] as PromiseRejectedResult).reason)).toMatch(
      /exited \(2\) before listening[\s\S]*is in use by process/,
    );
    const winner = (ran[0] as PromiseFulfilledResult<RunningServer>).value;
    expect((await fetch(`${winner.url}/healthz`)).status).toBe(200);
  });
});
