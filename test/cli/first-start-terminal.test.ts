// The first start in a terminal: one short block a person reads, the long token only in DATA_DIR/demo.txt.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort } from '../support/ports.js';
import { builtService, type RunningServer, startServer, tempDir } from '../support/process.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 180_000 });

/** A shell word: the paths of a temporary folder and of Node need no more than single quotes. */
const quoted = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;

describe('salesreps serve, first start in a terminal', () => {
  let dataDir: string;
  let server: RunningServer | undefined;
  let terminal = '';
  let demoFile = '';
  let url = '';

  beforeAll(async () => {
    dataDir = tempDir('salesreps-first-start-');
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    // util-linux `script` gives the service a pseudo-terminal, as a person's shell does: stdout and stderr are one.
    const command = [process.execPath, builtService().cli, 'serve'].map(quoted).join(' ');
    server = await startServer('script', ['-qfec', command, '/dev/null'], {
      DATA_DIR: dataDir,
      PORT: String(port),
    });
    for (let waited = 0; waited < 20_000 && !server.output().includes('curl lines'); waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    terminal = server.output().replaceAll('\r\n', '\n');
    demoFile = fs.readFileSync(path.join(dataDir, 'demo.txt'), 'utf8');
  });
  afterAll(async () => {
    // The service itself, whose pid its lock holds: `script` would kill it without its clean stop.
    const lock = path.join(dataDir, 'pglite.lock');
    if (fs.existsSync(lock)) process.kill(Number(fs.readFileSync(lock, 'utf8')), 'SIGTERM');
    await server?.exited;
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const block = () => terminal.split('\n').filter((line) => !line.startsWith('{'));

  it("prints one short block: the console's address, the demo admin's set-password link, and where the token is", () => {
    const text = block().join('\n').trim().split('\n');
    expect(text).toEqual([
      'Sales Reps is running, with the demo organization "Demo Distributors".',
      `  Console:    ${url}/console/`,
      '  Demo admin: admin@demo.example; set a password (single-use link):',
      expect.stringMatching(new RegExp(`^ {14}${url}/signin/link/[A-Za-z0-9_-]{43}$`)),
      `  An Admin token for the API, and curl lines to try it: ${path.join(dataDir, 'demo.txt')}`,
    ]);
  });

  it('shows the token nowhere in the terminal: it is in demo.txt only', () => {
    const token = demoFile.match(/^(eyJ[\w-]+\.[\w-]+\.[\w-]+)$/m)?.[1] ?? '';
    expect(token).not.toBe('');
    expect(terminal).not.toContain(token);
    expect(terminal).not.toContain('eyJ');
  });

  it('gives the same working link as demo.txt: it opens the page that sets the password', async () => {
    const link =
      block()
        .find((line) => line.includes('/signin/link/'))
        ?.trim() ?? '';
    expect(demoFile).toContain(link);
    const page = await fetch(link);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Demo Distributors');
  });
});
