// The service's heap settings (decision 49): the production start command caps V8's young generation, which Node's
// default lets the start alone grow to 64 MB and any sustained load to 128 MB, kept resident; and `serve` limits how
// far the old generation grows before a full collection.
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
/** Where the recorder below writes the V8 flags the process set itself, one call a line. */
const FLAGS_SET = 'v8-flags-set.txt';

/** A module loaded before the service's own (`--import`) that writes down every `v8.setFlagsFromString` call. */
function flagRecorder(dataDir: string): string {
  const recorder = path.join(dataDir, 'record-v8-flags.mjs');
  fs.writeFileSync(
    recorder,
    [
      "import fs from 'node:fs';",
      "import v8 from 'node:v8';",
      'const set = v8.setFlagsFromString;',
      'v8.setFlagsFromString = (flags) => {',
      `  fs.appendFileSync(${JSON.stringify(path.join(dataDir, FLAGS_SET))}, flags + '\\n');`,
      '  set(flags);',
      '};',
    ].join('\n'),
  );
  return recorder;
}

/**
 * Starts the built service with these Node flags on a copy of the migrated embedded database, lists the demo
 * organization's reps REQUESTS times over CONNECTIONS connections, and answers the young generation's size in MB
 * (both semi-spaces), as its /metrics reports it, and the V8 flags the process set itself.
 */
async function youngGenerationUnderLoad(flags: string[]): Promise<{ youngMb: number; flagsSet: string[] }> {
  const dataDir = migratedDataDir('salesreps-young-generation-');
  const service = await startServer(process.execPath, [...flags, build.cli, 'serve'], {
    DATA_DIR: dataDir,
    DEMO: 'true',
    METRICS_TOKEN,
    NODE_OPTIONS: `--import ${flagRecorder(dataDir)}`,
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
    const flagsSet = fs.readFileSync(path.join(dataDir, FLAGS_SET), 'utf8').split('\n').filter(Boolean);
    return { youngMb: Number(bytes) / 2 ** 20, flagsSet };
  } finally {
    await service.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

describe("the service's heap settings (decision 49)", () => {
  it('npm start runs node with a semi-space cap, then the built service', () => {
    expect(program).toBe('node');
    expect(startArgs.slice(-2)).toEqual(['dist/cli.js', 'serve']);
    expect(nodeFlags).toEqual([expect.stringMatching(/^--max-semi-space-size=[1-9]\d*$/)]);
  });

  it("keeps the young generation within two semi-spaces under load, where Node without the flag grows it past them, and serve sets the old generation's growth", async () => {
    const capMb = 2 * Number(nodeFlags[0]?.split('=')[1]);
    const capped = await youngGenerationUnderLoad(nodeFlags);
    expect(capped.youngMb).toBeGreaterThan(0);
    expect(capped.youngMb).toBeLessThanOrEqual(capMb);
    // `serve` itself lets the old generation grow by 30 % past what a full collection kept, not V8's up to 300 %.
    expect(capped.flagsSet).toEqual(['--heap-growing-percent=30']);
    // The same load without the flag: what the cap is for.
    expect((await youngGenerationUnderLoad([])).youngMb).toBeGreaterThan(capMb);
  }, 120_000);
});
