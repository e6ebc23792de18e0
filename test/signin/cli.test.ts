import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort } from '../support/ports.js';
import {
  builtService,
  type Finished,
  migratedDataDir,
  type RunningServer,
  runCommand,
  startServer,
} from '../support/process.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 180_000 });

const build = builtService();
const dirs: string[] = [];
const salesreps = (args: string[], env: Record<string, string>) =>
  runCommand(process.execPath, [build.cli, ...args], env);

afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** The mail files the effect worker wrote into DATA_DIR/mail, once there are any (15 s at most). */
async function writtenMail(dataDir: string): Promise<string[]> {
  const mailDir = path.join(dataDir, 'mail');
  let files: string[] = [];
  for (let waited = 0; waited < 15_000 && files.length === 0; waited += 200) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    files = fs.existsSync(mailDir) ? fs.readdirSync(mailDir) : [];
  }
  return files;
}

describe('admin invite, then the server started on the same DATA_DIR', () => {
  let env: Record<string, string>;
  let server: RunningServer | undefined;
  let publicUrl: string;
  let created: Finished;
  let invited: Finished;

  beforeAll(async () => {
    const dataDir = migratedDataDir('salesreps-signin-cli-');
    dirs.push(dataDir);
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    env = { DATA_DIR: dataDir, PORT: String(port), DEMO: 'false' };
    created = await salesreps(['org', 'create', '--name', 'Cli Supply', '--identity-org', 'org_cli'], env);
    invited = await salesreps(['admin', 'invite', '--org', 'org_cli', '--email', 'boss@cli.example'], env);
    server = await startServer(process.execPath, [build.cli, 'serve'], env);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('admin invite prints a single-use link at PUBLIC_URL; the server shows it and mails the same link', async () => {
    expect(created.code, created.stderr).toBe(0);
    expect(invited.code, invited.stderr).toBe(0);
    const link = invited.stdout.trim();
    expect(link).toMatch(new RegExp(`^${publicUrl}/signin/link/[A-Za-z0-9_-]{43}$`));
    expect(invited.stderr).toBe('');

    const page = await fetch(link);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Cli Supply');
    expect(html).toContain('<label for="password">Password</label>');
    const mailDir = path.join(env.DATA_DIR as string, 'mail');
    const files = (await writtenMail(env.DATA_DIR as string)).filter((name) => name.endsWith('.eml'));
    const mail = files.map((name) => fs.readFileSync(path.join(mailDir, name), 'utf8')).join('\n');
    expect(mail.replace(/=\r?\n/g, '')).toContain(link.slice(-20));
    expect(mail).toContain('boss@cli.example');
  });

  it('writes each mail under its recipient and time, with a plain-text copy whose link is whole on one line', async () => {
    const mailDir = path.join(env.DATA_DIR as string, 'mail');
    await writtenMail(env.DATA_DIR as string);
    const names = fs.readdirSync(mailDir).filter((name) => name.startsWith('boss@cli.example_'));
    expect(names.sort()).toEqual([
      expect.stringMatching(/^boss@cli\.example_\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ_effect-\d+\.eml$/),
      expect.stringMatching(/^boss@cli\.example_.+_effect-\d+\.txt$/),
    ]);
    const [eml = '', txt = ''] = names.sort();
    expect(txt.replace(/\.txt$/, '')).toBe(eml.replace(/\.eml$/, ''));
    const plain = fs.readFileSync(path.join(mailDir, txt), 'utf8');
    expect(plain).toMatch(/^From: .+\nTo: boss@cli\.example\nSubject: .+\n\n/);
    const links = plain.match(/http:\/\/\S+\/signin\/link\/\S+/g) ?? [];
    expect(links.length).toBeGreaterThan(0);
    // The same single-use link the command printed, whole: a person copies it from one line.
    expect(links.map((found) => found.replace(/[.,)]$/, ''))).toContain(invited.stdout.trim());
  });

  it('refuses to open the database a running server holds, exit 2', async () => {
    const busy = await salesreps(
      ['client', 'add', '--id', 'busy-app', '--redirect-uri', 'https://app.example/cb'],
      env,
    );
    expect(busy.code).toBe(2);
    expect(busy.stdout).toBe('');
    expect(busy.stderr).toMatch(/^salesreps: .*/);
  });
});

describe('client add', () => {
  let env: Record<string, string>;
  let server: RunningServer | undefined;
  let publicUrl: string;

  beforeAll(async () => {
    const dataDir = migratedDataDir('salesreps-signin-client-');
    dirs.push(dataDir);
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    env = { DATA_DIR: dataDir, PORT: String(port), DEMO: 'false' };
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('client add prints the public PKCE client as JSON; a duplicate id or a bad redirect URI fails, exit 2', async () => {
    const added = await salesreps(
      [
        'client',
        'add',
        '--id',
        'my-app',
        '--redirect-uri',
        'https://app.example/callback',
        '--redirect-uri',
        'http://localhost:5173/cb',
      ],
      env,
    );
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toEqual({
      clientId: 'my-app',
      redirectUris: ['https://app.example/callback', 'http://localhost:5173/cb'],
      tokenEndpointAuthMethod: 'none',
      pkce: 'S256',
    });
    const duplicate = await salesreps(
      ['client', 'add', '--id', 'my-app', '--redirect-uri', 'https://app.example/x'],
      env,
    );
    expect(duplicate.code).toBe(2);
    expect(duplicate.stderr).toBe('salesreps: A client "my-app" exists already.\n');
    const plainHttp = await salesreps(
      ['client', 'add', '--id', 'other', '--redirect-uri', 'http://app.example/cb'],
      env,
    );
    expect(plainHttp.code).toBe(2);
    expect(plainHttp.stderr).toContain('must be https (or http on localhost)');

    server = await startServer(process.execPath, [build.cli, 'serve'], env);
    const authorize = await fetch(
      `${publicUrl}/oidc/auth?${new URLSearchParams({
        client_id: 'my-app',
        redirect_uri: 'https://app.example/callback',
        response_type: 'code',
        scope: 'openid',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      })}`,
      { redirect: 'manual' },
    );
    expect(authorize.status).toBe(303);
    expect(authorize.headers.get('location')).toMatch(/^\/signin\/interaction\//);
    await server.stop();
    server = undefined;
  });

  it('both commands are refused when sign-in happens at an external provider', async () => {
    const external = { ...env, AUTH_JWKS_URL: 'https://idp.example/.well-known/jwks.json' };
    const invite = await salesreps(
      ['admin', 'invite', '--org', 'org_cli', '--email', 'x@cli.example'],
      external,
    );
    expect(invite.code).toBe(2);
    expect(invite.stderr).toContain('The embedded sign-in is off');
    const client = await salesreps(
      ['client', 'add', '--id', 'x', '--redirect-uri', 'https://a.example/cb'],
      external,
    );
    expect(client.code).toBe(2);
  });
});

describe('the demo start', () => {
  it('invites the demo admin and writes the link into DATA_DIR/demo.txt next to the token', async () => {
    const dataDir = migratedDataDir('salesreps-signin-demo-');
    dirs.push(dataDir);
    const port = await freePort();
    const demo = await startServer(process.execPath, [build.cli, 'serve'], {
      DATA_DIR: dataDir,
      PORT: String(port),
    });
    try {
      let text = '';
      for (let waited = 0; waited < 10_000 && !text; waited += 100) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        if (fs.existsSync(path.join(dataDir, 'demo.txt')))
          text = fs.readFileSync(path.join(dataDir, 'demo.txt'), 'utf8');
      }
      const link = text.match(/http:\/\/127\.0\.0\.1:\d+\/signin\/link\/[A-Za-z0-9_-]+/)?.[0] as string;
      expect(text).toContain('admin@demo.example');
      expect(text).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/m);
      const page = await fetch(link);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('Demo Distributors');
    } finally {
      await demo.stop();
    }
  });
});
