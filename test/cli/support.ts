import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Compiles the service as `npm run build` does, into a folder of this test file's own under node_modules/.cache
 * (so packages resolve and helpers building at the same time never share an output).
 */
export async function buildCli(): Promise<{ cli: string; remove(): void }> {
  const cache = path.join(ROOT, 'node_modules', '.cache');
  fs.mkdirSync(cache, { recursive: true });
  const outDir = fs.mkdtempSync(path.join(cache, 'salesreps-cli-'));
  await new Promise<void>((resolve) => {
    execFile(
      process.execPath,
      [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', outDir],
      { cwd: ROOT },
      () => resolve(),
    );
  });
  const cli = path.join(outDir, 'cli.js');
  if (!fs.existsSync(cli)) throw new Error(`the build emitted no ${cli}`);
  return { cli, remove: () => fs.rmSync(outDir, { recursive: true, force: true }) };
}

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The environment of a process: PATH and what the test sets, nothing of the test runner's own. */
export function processEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir(), LOG_LEVEL: 'warn', ...env };
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
  stdout(): string;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts a command that serves HTTP (`salesreps serve`, `npm start`) on port 0 in its own process group, and
 * resolves once its log says where it listens; rejects when it exits first.
 */
export async function startServer(
  command: string,
  args: string[],
  env: Record<string, string>,
): Promise<RunningServer> {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: processEnv({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const listening = stdout.match(/Server listening at (http:\/\/127\.0\.0\.1:\d+)/);
      if (listening?.[1]) {
        clearInterval(timer);
        resolve(listening[1]);
      }
    }, 50);
    void exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`exited (${code}) before listening:\n${stdout}\n${stderr}`));
    });
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
    stdout: () => stdout,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) signalGroup(signal);
      return exited;
    },
  };
}

/** The claims of a JWT, unverified (the server under test verifies it). */
export function decodeClaims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<
    string,
    unknown
  >;
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
