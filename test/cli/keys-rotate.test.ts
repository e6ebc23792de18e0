// `salesreps keys rotate`: a new issuer key signs, the older one verifies what it signed until it retires.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  builtService,
  migratedDataDir,
  type RunningServer,
  runCommand,
  startServer,
  tempDir,
} from '../support/process.js';

vi.setConfig({ testTimeout: 360_000, hookTimeout: 120_000 });
const LISTEN_WITHIN_MS = 150_000;
/** Long enough to outlast a restart on a loaded machine, short enough to wait for. */
const OLD_TOKEN_TTL_SECONDS = 90;
const RETIRE_AFTER_SECONDS = 100;

const cli = () => builtService().cli;
const dirs: string[] = [];
const salesreps = (args: string[], env: Record<string, string>) =>
  runCommand(process.execPath, [cli(), ...args], env);
const header = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as { kid: string };
const sleepUntil = (ms: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, ms - Date.now())));

afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function dataDir(migrated = false): string {
  const dir = migrated ? migratedDataDir('salesreps-keys-') : tempDir('salesreps-keys-');
  dirs.push(dir);
  return dir;
}

describe('salesreps keys rotate, offline', () => {
  it('keeps the older key until the longest token lifetime by default, in a file still owner-only', async () => {
    const env = { DATA_DIR: dataDir() };
    const token = await salesreps(['token', '--org', 'o', '--user', 'u', '--role', 'Admin'], env);
    expect(token.code, token.stderr).toBe(0);
    const before = Date.now();
    const rotated = await salesreps(['keys', 'rotate'], env);
    expect(rotated.code, rotated.stderr).toBe(0);
    const [first = '', second = ''] = rotated.stdout.trim().split('\n');
    expect(first).toMatch(/^New issuer key local-\w+ in .+issuer-key\.json: restart the service/);
    const retiresAt = Date.parse(second.match(/until (\S+);/)?.[1] ?? '');
    // AUTH_MAX_TOKEN_LIFETIME_SECONDS (a day) and the clock tolerance (30 s).
    expect(retiresAt - before).toBeGreaterThanOrEqual(86_430_000);
    expect(retiresAt - Date.now()).toBeLessThanOrEqual(86_430_000);
    expect(second).toContain(`Key ${header(token.stdout.trim()).kid} stays in the JWKS`);
    const keyFile = path.join(env.DATA_DIR, 'issuer-key.json');
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(keyFile, 'utf8')).keys).toHaveLength(2);
  });

  it('refuses without a key file, and with AUTH_JWKS_URL, exit 2', async () => {
    const none = await salesreps(['keys', 'rotate'], { DATA_DIR: dataDir() });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/issuer-key\.json does not exist/);
    const external = await salesreps(['keys', 'rotate'], {
      DATA_DIR: dataDir(),
      AUTH_JWKS_URL: 'https://idp.example/.well-known/jwks.json',
      AUTH_ISSUER: 'https://idp.example',
    });
    expect(external.code).toBe(2);
    expect(external.stderr).toContain('AUTH_JWKS_URL is set');
  });
});

describe('salesreps keys rotate with a service', () => {
  let env: Record<string, string>;
  let server: RunningServer | undefined;
  /** An admin's invitation link (its path), made before the rotation. */
  let invitation = '';
  const start = async () => {
    server = await startServer(
      process.execPath,
      [cli(), 'serve'],
      { ...env, DEMO: 'false' },
      LISTEN_WITHIN_MS,
    );
    return server;
  };
  const restart = async () => {
    expect(await server?.stop()).toBe(0);
    return start();
  };
  const list = async (token: string) =>
    (
      await fetch(`${server?.url}/api/organizations/salesreps`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).status;
  const kids = async () =>
    (
      (await (await fetch(`${server?.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }
    ).keys.map((key) => key.kid);
  /** The embedded provider's published keys: kid and key type. */
  const providerKeys = async () =>
    ((await (await fetch(`${server?.url}/oidc/jwks`)).json()) as { keys: { kid: string; kty: string }[] })
      .keys;
  const mint = async (user: string, ttl: number) => {
    const minted = await salesreps(
      ['token', '--org', 'org_keys', '--user', user, '--role', 'Admin', '--ttl', String(ttl)],
      env,
    );
    expect(minted.code, minted.stderr).toBe(0);
    return minted.stdout.trim();
  };

  beforeAll(async () => {
    env = { DATA_DIR: dataDir(true), AUTH_CLOCK_TOLERANCE_SECONDS: '0' };
    const created = await salesreps(
      ['org', 'create', '--name', 'Keys Ltd', '--identity-org', 'org_keys'],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    const invited = await salesreps(
      ['admin', 'invite', '--org', 'org_keys', '--email', 'keys.admin@example.com'],
      env,
    );
    expect(invited.code, invited.stderr).toBe(0);
    invitation = invited.stdout.match(/\/signin\/link\/[\w-]+/)?.[0] ?? '';
    expect(invitation).not.toBe('');
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('publishes both keys and signs with the new one; the old token works until it expires, then its key retires', async () => {
    await start();
    const oldToken = await mint('before_rotation', OLD_TOKEN_TTL_SECONDS);
    const oldTokenExpires = Date.now() + OLD_TOKEN_TTL_SECONDS * 1000;
    const oldKid = header(oldToken).kid;
    expect(await kids()).toEqual([oldKid]);
    expect(await list(oldToken)).toBe(200);
    const idTokenKid = (await providerKeys()).find((key) => key.kty === 'RSA')?.kid;
    expect(idTokenKid).toBeDefined();

    const rotated = await salesreps(['keys', 'rotate', '--retire-after', String(RETIRE_AFTER_SECONDS)], env);
    expect(rotated.code, rotated.stderr).toBe(0);
    const retiresAt = Date.now() + RETIRE_AFTER_SECONDS * 1000;
    const newKid = rotated.stdout.match(/^New issuer key (\S+) in /)?.[1] ?? '';
    expect(newKid).not.toBe(oldKid);

    await restart();
    expect(await kids()).toEqual([newKid, oldKid]);
    const providerKids = (await providerKeys()).map((key) => key.kid);
    expect(providerKids, 'the embedded provider publishes both too').toEqual(
      expect.arrayContaining([newKid, oldKid]),
    );
    expect(providerKids, 'and keeps its ID-token key, sealed under what the rotation kept').toContain(
      idTokenKid,
    );
    const link = await fetch(`${server?.url}${invitation}`);
    expect(link.status, 'an invitation made before the rotation still opens').toBe(200);
    expect(await link.text()).toContain('Set your password');
    const newToken = await mint('after_rotation', 3600);
    expect(header(newToken).kid).toBe(newKid);
    expect(await list(newToken)).toBe(200);
    expect(await list(oldToken), 'the token signed before the rotation, not yet expired').toBe(200);

    await sleepUntil(oldTokenExpires + 1000);
    expect(await list(oldToken), 'the same token once expired').toBe(401);

    await sleepUntil(retiresAt + 1000);
    await restart();
    expect(await kids()).toEqual([newKid]);
    expect(await list(newToken)).toBe(200);
  });
});
