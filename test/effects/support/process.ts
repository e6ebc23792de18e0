import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * Compiles the service into a folder of this test run (beside node_modules, so packages resolve) and answers the
 * path of its cli.js. A type error elsewhere in the tree does not stop the emit; a missing cli.js fails the test.
 */
export function buildService(): { cli: string; remove(): void } {
  const outDir = path.join(ROOT, 'node_modules', '.cache', `salesreps-effects-${process.pid}`);
  try {
    execFileSync(
      path.join(ROOT, 'node_modules', '.bin', 'tsc'),
      ['-p', 'tsconfig.build.json', '--outDir', outDir, '--sourceMap', 'false'],
      {
        cwd: ROOT,
        stdio: 'pipe',
      },
    );
  } catch {
    // Reported below if nothing was emitted.
  }
  const cli = path.join(outDir, 'cli.js');
  if (!fs.existsSync(cli)) throw new Error(`The build emitted no ${cli}`);
  return { cli, remove: () => fs.rmSync(outDir, { recursive: true, force: true }) };
}

export interface ServiceProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  /** Sends the signal and waits for the exit; answers the exit code (null when killed by a signal). */
  stop(signal: NodeJS.Signals): Promise<number | null>;
}

/** Runs `salesreps serve` on a free port with the environment given, and waits until it listens. */
export async function startServiceProcess(cli: string, env: Record<string, string>): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [cli, 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: '0',
      DEMO: 'false',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`The service did not start:\n${output}`)), 30_000);
    const check = () => {
      const match = output.match(/Server listening at (http:\/\/127\.0\.0\.1:\d+)/);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`The service exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    child,
    output: () => output,
    stop: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs the CLI once to completion; answers its standard output. */
export function runCli(cli: string, args: string[], env: Record<string, string>): string {
  return execFileSync(process.execPath, [cli, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
  });
}
