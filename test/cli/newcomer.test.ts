import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RunningServer, runCommand, startServer, tempDir } from '../support/process.js';
import { copyProject } from '../support/service-build.js';
import { decodeClaims } from './support.js';

// `npm start` builds the service first when its sources are newer than dist/: minutes on a busy machine.
vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });
const BUILD_AND_LISTEN_WITHIN_MS = 180_000;

/**
 * What a newcomer does: `npm start` in a project as `npm install` left it, on a machine with nothing else (a fresh
 * DATA_DIR). It runs in a copy of the checkout of its own, so that its build never rewrites files other tests read.
 */
describe('npm start as a newcomer', () => {
  let project: string;
  let dataDir: string;
  let first: RunningServer | undefined;
  let second: RunningServer | undefined;
  let firstOutput = '';

  beforeAll(async () => {
    project = tempDir('salesreps-newcomer-project-');
    copyProject(project, [
      'package.json',
      'bin',
      'src',
      'console',
      'client',
      'tsconfig.json',
      'tsconfig.build.json',
      'dist',
    ]);
    dataDir = tempDir('salesreps-newcomer-');
    first = await startServer('npm', ['start'], { DATA_DIR: dataDir }, BUILD_AND_LISTEN_WITHIN_MS, project);
    // The demo file is written right after the server listens, and the log names it.
    for (let waited = 0; waited < 10_000 && !first.stdout().includes('demo.txt'); waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    firstOutput = fs.readFileSync(`${dataDir}/demo.txt`, 'utf8');
  });
  afterAll(async () => {
    await first?.stop();
    await second?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(project, { recursive: true, force: true });
  });

  const token = () => firstOutput.match(/^(eyJ[\w-]+\.[\w-]+\.[\w-]+)$/m)?.[1] ?? '';

  it('keeps the log one JSON line per event: the demo token goes to a file the log names, readable by its owner only', () => {
    const logLines = first?.stdout().split('\n').filter(Boolean) ?? [];
    // npm prints its own banner before the service starts; every line the service writes is JSON.
    const serviceLines = logLines.slice(logLines.findIndex((line) => line.startsWith('{')));
    for (const line of serviceLines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(first?.stdout()).not.toContain(token());
    const named = serviceLines.map((line) => JSON.parse(line)).find((entry) => entry.file);
    expect(named).toMatchObject({ file: `${dataDir}/demo.txt`, msg: expect.stringContaining('demo.txt') });
    expect(fs.statSync(`${dataDir}/demo.txt`).mode & 0o777).toBe(0o600);
  });

  it('writes the demo organization and an Admin token for it on first start', () => {
    expect(firstOutput).toContain(
      'Demo organization "Demo Distributors" created (identity organization id demo_org).',
    );
    expect(token()).not.toBe('');
    expect(decodeClaims(token())).toMatchObject({
      org_code: 'demo_org',
      roles: ['Admin'],
      UserId: 'demo_admin',
    });
    expect(firstOutput).toContain(`API reference: ${first?.url}/docs`);
  });

  it('prints curl lines that work as pasted: the token is accepted by the API', async () => {
    const curls = firstOutput.split('\n').filter((line) => line.trim().startsWith('curl '));
    expect(curls).toHaveLength(2);
    for (const line of curls) {
      expect(line).toContain(`Bearer ${token()}`);
      expect(line).toContain(`${first?.url}/api/organizations/salesreps`);
    }
    const [put = '', list = ''] = curls;
    const added = await runCommand('sh', ['-c', `${put.trim()} -w '\\n%{http_code}'`], {});
    expect(added.stdout.trim().split('\n').at(-1), added.stdout).toBe('200');
    expect(JSON.parse(added.stdout.trim().split('\n')[0] ?? '')).toMatchObject({
      email: 'jane@example.com',
      repNumber: 'REP-001',
      organizationName: 'Demo Distributors',
    });
    const listed = await runCommand('sh', ['-c', list.trim()], {});
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ email: 'jane@example.com' })]);
  });

  it('serves the console that npm install built: / leads to it, and its page loads its hashed script', async () => {
    const root = await fetch(`${first?.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/console/');
    const page = await fetch(`${first?.url}/console/`);
    expect(page.status).toBe(200);
    const script = (await page.text()).match(/src="(\/console\/assets\/[^"]+\.js)"/)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${first?.url}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
  });

  it('prints no demo organization or token on the second start of the same data', async () => {
    await first?.stop();
    // npm may end before the service it started has released the embedded database.
    const lock = `${dataDir}/pglite.lock`;
    for (let waited = 0; waited < 15_000 && fs.existsSync(lock); waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    second = await startServer('npm', ['start'], { DATA_DIR: dataDir }, BUILD_AND_LISTEN_WITHIN_MS, project);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(second.stdout()).not.toContain('Demo organization');
    expect(second.stdout()).not.toMatch(/^eyJ/m);
    expect(second.stdout()).not.toContain('demo.txt');
    // The first token still works against the restarted server, and the data is kept.
    const response = await fetch(`${second.url}/api/organizations/salesreps`, {
      headers: { authorization: `Bearer ${token()}` },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual([expect.objectContaining({ email: 'jane@example.com' })]);
  });
});
