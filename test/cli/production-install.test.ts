// A production install of a built tree: its runtime dependencies only, no compiler, and the service starts from it.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  builtService,
  type Finished,
  processEnv,
  ROOT,
  type RunningServer,
  startServer,
  tempDir,
} from '../support/process.js';

// npm downloads the runtime dependencies from the registry: minutes on a busy machine.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 600_000 });
const LISTEN_WITHIN_MS = 150_000;

function npmCi(cwd: string): Promise<Finished> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      'npm',
      ['ci', '--omit=dev', '--no-audit', '--no-fund'],
      { cwd, env: processEnv({}), timeout: 540_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      },
    );
  });
}

describe('npm ci --omit=dev in a built tree (package.json, package-lock.json, bin/, dist/)', () => {
  let tree: string;
  let dataDir: string;
  let install: Finished;
  let service: RunningServer | undefined;

  beforeAll(async () => {
    const build = builtService();
    tree = tempDir('salesreps-production-');
    dataDir = tempDir('salesreps-production-data-');
    for (const file of ['package.json', 'package-lock.json']) {
      fs.copyFileSync(path.join(ROOT, file), path.join(tree, file));
    }
    fs.cpSync(path.join(ROOT, 'bin'), path.join(tree, 'bin'), { recursive: true });
    fs.cpSync(path.join(build.root, 'dist'), path.join(tree, 'dist'), { recursive: true });
    install = await npmCi(tree);
  });
  afterAll(async () => {
    await service?.stop();
    fs.rmSync(tree, { recursive: true, force: true });
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('installs without building: npm ci exits 0, and no compiler or dev dependency is installed', () => {
    expect(install.code, `${install.stdout}\n${install.stderr}`).toBe(0);
    expect(fs.existsSync(path.join(tree, 'node_modules/fastify'))).toBe(true);
    for (const devOnly of ['typescript', 'vite', 'vitest', '@biomejs/biome', '@stoplight/spectral-cli']) {
      expect(fs.existsSync(path.join(tree, 'node_modules', devOnly)), devOnly).toBe(false);
    }
  });

  it('starts the service from the installed tree, and it answers its health check', async () => {
    service = await startServer(
      process.execPath,
      [path.join(tree, 'bin/salesreps.js'), 'serve'],
      { DATA_DIR: dataDir, DEMO: 'false' },
      LISTEN_WITHIN_MS,
    );
    const health = await fetch(`${service?.url}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${service?.url}/readyz`);
    expect(ready.status).toBe(200);
  });
});
