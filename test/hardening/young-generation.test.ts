// The production start command caps V8's young generation (decision 49). Node's default lets the start alone grow it
// to 64 MB and any sustained load to 128 MB, which the process then keeps resident.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openLocalIssuer } from '../../src/auth/local-issuer.js';
import { loadConfig } from '../../src/config.js';
import { builtService, migratedDataDir, ROOT, startServer } from '../support/process.js';

const METRICS_TOKEN = 'young-generation-metrics-token';
const REQUESTS = 300;
const CONNECTIONS = 10;

/** `npm start`'s command as package.json spells it: the program, then its arguments. */
const [program, ...startArgs] = String(
  JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.start,
).split(/\s+/);
/** Node's flags in it: what comes before the service's script and command. */
const nodeFlags = startArgs.slice(0, -2);

const build = builtService();

/**
 * Starts the built service with these Node flags on a copy of the migrated embedded database, lists the demo
 * organization's reps REQUESTS times over CONNECTIONS connections, and answers the young generation's size in MB
 * (both semi-spaces), as its /metrics reports it.
 */
async function youngGenerationUnderLoad(flags: string[]): Promise<number> {
  const dataDir = migratedDataDir('salesreps-young-generation-');
  const service = await startServer(process.execPath, [...flags, build.cli, 'serve'], {
    DATA_DIR: dataDir,
    DEMO: 'true',
    METRICS_TOKEN,
  });
  try {
    const issuer = await openLocalIssuer(loadConfig({ DATA_DIR: dataDir }).auth);
    const token = await issuer.sign(
      { userId: 'demo_admin', organization: 'demo_org', roles: ['Admin'] },
      600,
    );
    const list = () =>
      fetch(`${service.url}/api/organizations/salesreps?pageSize=100`, {
        headers: { authorization: `Bearer ${token}` },
      });
    // The demo organization is created just after the server starts listening.
    for (let attempt = 0; attempt < 50 && (await list()).status !== 200; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    let left = REQUESTS;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        for (; left > 0; left--) {
          const response = await list();
          expect(response.status).toBe(200);
          await response.arrayBuffer();
        }
      }),
    );
    const metrics = await (
      await fetch(`${service.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
    ).text();
    const bytes = /^nodejs_heap_space_size_total_bytes\{space="new"\} (\d+)$/m.exec(metrics)?.[1];
    expect(bytes).toBeDefined();
    return Number(bytes) / 2 ** 20;
  } finally {
    await service.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

describe("the start command's young generation (decision 49)", () => {
  it('npm start runs node with a semi-space cap, then the built service', () => {
    expect(program).toBe('node');
    expect(startArgs.slice(-2)).toEqual(['dist/cli.js', 'serve']);
    expect(nodeFlags).toEqual([expect.stringMatching(/^--max-semi-space-size=[1-9]\d*$/)]);
  });

  it('keeps the young generation within two semi-spaces under load, where Node without the flag grows it past them', async () => {
    const capMb = 2 * Number(nodeFlags[0]?.split('=')[1]);
    const capped = await youngGenerationUnderLoad(nodeFlags);
    expect(capped).toBeGreaterThan(0);
    expect(capped).toBeLessThanOrEqual(capMb);
    // The same load without the flag: what the cap is for.
    expect(await youngGenerationUnderLoad([])).toBeGreaterThan(capMb);
  }, 120_000);
});
