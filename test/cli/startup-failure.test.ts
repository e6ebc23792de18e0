// A start that cannot complete ends the process at once, says why in one line and leaves the data free to reopen.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { builtService, type Finished, migratedDataDir, runCommand, startServer } from '../support/process.js';

/**
 * Generous for a loaded machine: the failing start creates the embedded database before it fails, while a start
 * that lingers never ends at all.
 */
const EXITS_WITHIN_MS = 90_000;
/** A second start may create the embedded database first, which takes a while on a loaded machine. */
const SECOND_START_LISTENS_WITHIN_MS = 120_000;

describe('salesreps serve when the start fails', () => {
  const cli = () => builtService().cli;
  const cleanups: (() => Promise<void> | void)[] = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A DATA_DIR already migrated: these starts fail after opening the database, not while creating it. */
  function dataDir(): string {
    const dir = migratedDataDir('salesreps-startup-failure-');
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  /** A TCP server on a free port that accepts connections and never answers: a port in use, a database that hangs. */
  async function occupiedPort(): Promise<number> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy();
          server.close(() => resolve());
        }),
    );
    return (server.address() as net.AddressInfo).port;
  }

  function serve(env: Record<string, string>): Promise<Finished> {
    return runCommand(
      process.execPath,
      [cli(), 'serve'],
      { HOST: '127.0.0.1', PORT: '0', DEMO: 'false', ...env },
      EXITS_WITHIN_MS * 2,
    );
  }

  /** The process ended with 1 in time, and its stderr is the one line given. */
  function expectFailedStart(finished: Finished, line: RegExp): void {
    expect(finished.code, finished.stderr).toBe(1);
    expect(finished.ms).toBeLessThan(EXITS_WITHIN_MS);
    expect(finished.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(line)]);
  }

  /** The embedded database's lock is gone, and a second start of the same data listens. */
  async function expectDataFreeToReopen(dir: string): Promise<void> {
    expect(fs.existsSync(path.join(dir, 'pglite.lock'))).toBe(false);
    const second = await startServer(
      process.execPath,
      [cli(), 'serve'],
      { DATA_DIR: dir, DEMO: 'false' },
      SECOND_START_LISTENS_WITHIN_MS,
    );
    cleanups.push(async () => void (await second.stop()));
    expect((await fetch(`${second.url}/healthz`)).status).toBe(200);
  }

  it('exits 1 when PORT is in use, naming the address, and releases the embedded database', async () => {
    const port = await occupiedPort();
    const dir = dataDir();
    const finished = await serve({ DATA_DIR: dir, PORT: String(port) });
    expectFailedStart(
      finished,
      new RegExp(
        `^salesreps: cannot listen on 127\\.0\\.0\\.1:${port} \\(HOST, PORT\\): the address is in use$`,
      ),
    );
    await expectDataFreeToReopen(dir);
  }, 360_000);

  it('exits 1 when METRICS_PORT is in use, rather than serving without metrics, and releases the database', async () => {
    const port = await occupiedPort();
    const dir = dataDir();
    const finished = await serve({ DATA_DIR: dir, METRICS_PORT: String(port) });
    expectFailedStart(
      finished,
      new RegExp(
        `^salesreps: cannot serve metrics on 127\\.0\\.0\\.1:${port} \\(METRICS_PORT\\): the address is in use$`,
      ),
    );
    await expectDataFreeToReopen(dir);
  }, 360_000);

  it('exits 1 when the database does not answer within DATABASE_CONNECT_TIMEOUT_MS', async () => {
    const port = await occupiedPort();
    const finished = await serve({
      DATA_DIR: dataDir(),
      DATABASE_URL: `postgres://salesreps@127.0.0.1:${port}/salesreps`,
      DATABASE_CONNECT_TIMEOUT_MS: '500',
    });
    expectFailedStart(
      finished,
      new RegExp(
        `^salesreps: cannot reach or migrate the database at 127\\.0\\.0\\.1:${port}/salesreps \\(DATABASE_URL\\): .*time`,
        'i',
      ),
    );
  }, 360_000);

  it('exits 1 when the issuer key file is not a key, naming the file, and starts once the file is fixed', async () => {
    const dir = dataDir();
    const keyFile = path.join(dir, 'issuer-key.json');
    fs.writeFileSync(keyFile, 'not a key', { mode: 0o600 });
    const finished = await serve({ DATA_DIR: dir });
    expectFailedStart(
      finished,
      new RegExp(`^salesreps: cannot read the issuer key file ${keyFile.replaceAll('.', '\\.')}: .+`),
    );
    fs.rmSync(keyFile);
    await expectDataFreeToReopen(dir);
  }, 360_000);
});
