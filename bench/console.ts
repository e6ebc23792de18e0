import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

/*
 * `npm run bench -- --console [--quick]`: the console's first screen on the embedded default, as a person meets it.
 * The service starts as `npm start` starts it (the demo organization); Chromium opens the demo admin's invitation,
 * sets a password and signs in once. Then, ROUNDS times each, a new tab opens /console/ and the time is taken until
 * the reps table is on the screen: the page, its script and style, the configuration, the provider's discovery, the
 * silent sign-in round trip (the provider's session), the token and the first API page. Once with an empty cache
 * and once with the hashed files cached. Also the compressed bytes of script the first load transfers.
 * Reported, never judged.
 */

interface Started {
  url: string;
  stop(): Promise<void>;
}
type StartService = (env: Record<string, string>) => Promise<Started>;

export interface ConsoleFigures {
  emptyCacheP50Ms: number;
  emptyCacheMaxMs: number;
  cachedP50Ms: number;
  cachedMaxMs: number;
  scriptBytesCompressed: number;
  rounds: number;
}

const PASSWORD = 'bench console passphrase 7';

export async function runConsoleBench(
  startService: StartService,
  options: { quick: boolean; log: (line: string) => void },
): Promise<ConsoleFigures> {
  const rounds = options.quick ? 3 : 20;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'salesreps-bench-console-'));
  const service = await startService({ DATA_DIR: work, DEMO: 'true' });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu'],
  });
  try {
    const demo = await waitForFile(path.join(work, 'demo.txt'));
    const link = demo.match(/http:\/\/\S+\/signin\/link\/\S+/)?.[0];
    if (!link) throw new Error('demo.txt holds no invitation link');
    const context = await browser.newContext();
    const first = await context.newPage();
    await first.goto(link);
    await first.getByLabel('Password').fill(PASSWORD);
    await first.getByRole('button', { name: 'Set password' }).click();
    await first.getByRole('heading', { name: 'Password set' }).waitFor();
    // Each script once: the sign-in's redirect back loads the page again, from the cache.
    const scripts = new Map<string, number>();
    first.on('response', (response) => {
      if (response.url().endsWith('.js')) {
        scripts.set(response.url(), Number(response.headers()['content-length'] ?? 0));
      }
    });
    await first.goto(`${service.url}/console/`);
    await first.getByLabel('Email').fill('admin@demo.example');
    await first.getByLabel('Password').fill(PASSWORD);
    await first.getByRole('button', { name: 'Sign in' }).click();
    await first.getByRole('heading', { name: 'Sales reps' }).waitFor();
    await first.close();
    const scriptBytesCompressed = [...scripts.values()].reduce((sum, bytes) => sum + bytes, 0);

    const measure = async (cacheDisabled: boolean) => {
      const times: number[] = [];
      for (let round = 0; round < rounds; round++) {
        const page = await context.newPage();
        const cdp = await context.newCDPSession(page);
        await cdp.send('Network.setCacheDisabled', { cacheDisabled });
        const started = performance.now();
        await page.goto(`${service.url}/console/`);
        await page.getByRole('region', { name: 'Sales reps' }).getByRole('row').nth(1).waitFor();
        times.push(performance.now() - started);
        await page.close();
      }
      return times.sort((a, b) => a - b);
    };
    const empty = await measure(true);
    const cached = await measure(false);
    const p50 = (sorted: number[]) => Math.round(sorted[Math.floor(sorted.length / 2)] ?? 0);
    const max = (sorted: number[]) => Math.round(sorted.at(-1) ?? 0);
    const figures: ConsoleFigures = {
      emptyCacheP50Ms: p50(empty),
      emptyCacheMaxMs: max(empty),
      cachedP50Ms: p50(cached),
      cachedMaxMs: max(cached),
      scriptBytesCompressed,
      rounds,
    };
    options.log(
      `Console first screen (embedded default, signed in, ${rounds} tabs each): empty cache p50 ${figures.emptyCacheP50Ms} ms, max ${figures.emptyCacheMaxMs} ms; cached p50 ${figures.cachedP50Ms} ms, max ${figures.cachedMaxMs} ms; script transferred ${(scriptBytesCompressed / 1000).toFixed(1)} kB (Brotli)`,
    );
    return figures;
  } finally {
    await browser.close();
    await service.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

async function waitForFile(file: string): Promise<string> {
  for (let attempt = 0; attempt < 300; attempt++) {
    if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${file} was not written`);
}
