import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

/** The project's root folder: commands run here, and compiled code finds its packages below it. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's build of the service: a copy of the project (test/support/service-build.ts). */
    serviceBuild: string;
    /** A DATA_DIR with an embedded database migrated to this release (test/support/service-build.ts). */
    migratedDataDir: string;
  }
}

/** The run's one build of the service, made by the process tier's global setup: its folder and its `cli.js`. */
export function builtService(): { root: string; cli: string } {
  const root = inject('serviceBuild');
  return { root, cli: path.join(root, 'dist', 'cli.js') };
}

/**
 * Where the processes the tests start keep Node's compiled code between runs (NODE_COMPILE_CACHE): every test starts
 * the same build, and compiling it again in each process is most of the cost of a short command.
 */
const COMPILE_CACHE = path.join(os.tmpdir(), 'salesreps-test-compile-cache');

/** The environment of a process: PATH, HOME and what the test sets, nothing of the test runner's own. */
export function processEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? os.tmpdir(),
    LOG_LEVEL: 'warn',
    NODE_COMPILE_CACHE: COMPILE_CACHE,
    ...env,
  };
}

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command to its end (killed after `timeoutMs`) and answers its exit code and output. */
export function runCommand(
  command: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 110_000,
): Promise<Finished> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd: ROOT, env: processEnv(env), timeout: timeoutMs },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      },
    );
  });
}

export interface RunningServer {
  child: ChildProcess;
  url: string;
  port: number;
  /** What the process wrote to stdout so far. */
  stdout(): string;
  /** What it wrote to stdout and stderr so far. */
  output(): string;
  /** Every JSON log line written so far, parsed. */
  logs: Record<string, unknown>[];
  /** Resolves with the exit code once the process has ended (null when a signal ended it). */
  exited: Promise<number | null>;
  /** Sends the signal (SIGTERM by default) to the process group and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts a command that serves HTTP (`salesreps serve`, `npm start`) on port 0 in its own process group, and
 * resolves once its log says where it listens; rejects when it exits first or does not listen within `listenWithinMs`
 * (90 s by default: a first start creates the embedded database; `npm start` builds first, which takes minutes while
 * the rest of the suite loads the machine). It runs in `cwd`, the checkout by default.
 */
export async function startServer(
  command: string,
  args: string[],
  env: Record<string, string>,
  listenWithinMs = 90_000,
  cwd = ROOT,
): Promise<RunningServer> {
  const child = spawn(command, args, {
    cwd,
    env: processEnv({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let output = '';
  const logs: Record<string, unknown>[] = [];
  let partialLine = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    stdout += text;
    output += text;
    const lines = (partialLine + text).split('\n');
    partialLine = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('{')) logs.push(JSON.parse(line) as Record<string, unknown>);
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timeout = setTimeout(
      () => finish(new Error(`did not listen within ${listenWithinMs / 1000} s:\n${output}`)),
      listenWithinMs,
    );
    const poll = setInterval(() => {
      const listening = stdout.match(/Server listening at (http:\/\/127\.0\.0\.1:\d+)/);
      if (listening?.[1]) finish(undefined, listening[1]);
    }, 50);
    function finish(error: Error | undefined, listeningAt?: string) {
      clearTimeout(timeout);
      clearInterval(poll);
      if (listeningAt) resolve(listeningAt);
      else reject(error);
    }
    void exited.then((code) => finish(new Error(`exited (${code}) before listening:\n${output}`)));
  });
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      // The whole group: `npm start` runs the service as a grandchild.
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };
  return {
    child,
    url,
    port: Number(new URL(url).port),
    stdout: () => stdout,
    output: () => output,
    logs,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) signalGroup(signal);
      return exited;
    },
  };
}

/** Runs the built service's `salesreps serve` with the environment given (no demo start unless asked). */
export function startServiceProcess(cli: string, env: Record<string, string>): Promise<RunningServer> {
  return startServer(process.execPath, [cli, 'serve'], { DEMO: 'false', ...env });
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * A new DATA_DIR holding a copy of the run's migrated embedded database: a service started on it skips initdb and
 * the migrations, which are most of a first start's cost. A test of the first start itself uses `tempDir`.
 */
export function migratedDataDir(prefix: string): string {
  const dir = tempDir(prefix);
  fs.cpSync(path.join(inject('migratedDataDir'), 'pglite'), path.join(dir, 'pglite'), { recursive: true });
  return dir;
}
