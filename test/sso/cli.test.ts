import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { builtService, migratedDataDir, runCommand } from '../support/process.js';
import { startTestIdp, type TestIdp } from './support.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 180_000 });

const build = builtService();
const salesreps = (args: string[], env: Record<string, string>) =>
  runCommand(process.execPath, [build.cli, ...args], env);

describe('salesreps sso set|show|remove|reseal', () => {
  let idp: TestIdp;
  let dataDir: string;
  let env: Record<string, string>;
  let secretFile: string;

  beforeAll(async () => {
    idp = await startTestIdp();
    dataDir = migratedDataDir('salesreps-sso-cli-');
    env = { DATA_DIR: dataDir, DEMO: 'false', SSO_ALLOW_PRIVATE_NETWORKS: 'true' };
    secretFile = path.join(dataDir, 'client-secret');
    fs.writeFileSync(secretFile, `${idp.clientSecret}\n`, { mode: 0o600 });
    const created = await salesreps(
      ['org', 'create', '--name', 'Cli Supply', '--identity-org', 'org_sso_cli'],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
  });
  afterAll(async () => {
    await idp?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const setArgs = (org: string) => [
    'sso',
    'set',
    '--org',
    org,
    '--issuer',
    idp.issuer,
    '--client-id',
    idp.clientId,
    '--client-secret-file',
    secretFile,
    '--domain',
    'cli.example',
  ];

  it('set checks the issuer, stores the connection and prints it without the secret; show prints the same', async () => {
    const set = await salesreps(setArgs('org_sso_cli'), env);
    expect(set.code, set.stderr).toBe(0);
    const connection = JSON.parse(set.stdout);
    expect(connection).toMatchObject({
      protocol: 'oidc',
      issuer: idp.issuer,
      clientId: idp.clientId,
      domains: ['cli.example'],
      passwordSignIn: false,
    });
    expect(set.stdout + set.stderr).not.toContain(idp.clientSecret);
    const shown = await salesreps(['sso', 'show', '--org', 'org_sso_cli'], env);
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toEqual(connection);
    expect(shown.stdout).not.toContain(idp.clientSecret);
    expect(fs.statSync(path.join(dataDir, 'sso-encryption-keys')).mode & 0o777).toBe(0o600);
  });

  it('sso --help lists each subcommand with its options', async () => {
    const group = await salesreps(['sso', '--help'], env);
    expect(group.code, group.stderr).toBe(0);
    for (const sub of ['set', 'show', 'remove', 'reseal'])
      expect(group.stdout).toContain(`salesreps sso ${sub}`);
    for (const option of [
      '--org',
      '--issuer',
      '--client-id',
      '--client-secret-file',
      '--domain',
      '--password-sign-in',
    ]) {
      expect(group.stdout).toContain(option);
    }
  });

  it('an unknown organization or an unusable issuer exits 2 with the reason', async () => {
    const unknown = await salesreps(setArgs('org_nobody'), env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('No organization with identity organization id "org_nobody"');
    const unreachable = await salesreps(
      [
        'sso',
        'set',
        '--org',
        'org_sso_cli',
        '--issuer',
        'http://127.0.0.1:9',
        '--client-id',
        'x',
        '--client-secret-file',
        secretFile,
      ],
      env,
    );
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toContain('issuer:');
  });

  it('a new key put first and reseal move every secret to it; without its key a secret cannot be opened', async () => {
    const oldKey = fs.readFileSync(path.join(dataDir, 'sso-encryption-keys'), 'utf8').trim();
    const newKey = randomBytes(32).toString('base64url');
    const resealed = await salesreps(['sso', 'reseal'], {
      ...env,
      SSO_ENCRYPTION_KEYS: `${newKey},${oldKey}`,
    });
    expect(resealed.code, resealed.stderr).toBe(0);
    expect(resealed.stdout).toContain('Re-sealed 1 of 1');
    // Under the new key alone the secret opens: sealing it again under a newer key needs it opened.
    const newerKey = randomBytes(32).toString('base64url');
    const again = await salesreps(['sso', 'reseal'], {
      ...env,
      SSO_ENCRYPTION_KEYS: `${newerKey},${newKey}`,
    });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('Re-sealed 1 of 1');
    const lost = await salesreps(['sso', 'reseal'], { ...env, SSO_ENCRYPTION_KEYS: newKey });
    expect(lost.code).toBe(1);
    expect(lost.stderr).toContain('not among the SSO encryption keys');
    expect(lost.stderr).not.toContain(idp.clientSecret);
  });

  it('remove takes the connection away (an organization locked out signs in with passwords again)', async () => {
    const removed = await salesreps(['sso', 'remove', '--org', 'org_sso_cli'], env);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toContain('removed');
    const shown = await salesreps(['sso', 'show', '--org', 'org_sso_cli'], env);
    expect(shown.code).toBe(2);
    expect(shown.stderr).toContain('no single sign-on connection');
  });
});
