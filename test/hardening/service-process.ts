import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Compiles src/ into a folder under node_modules/.cache (inside the project, so the compiled code finds its
 * dependencies), for tests that run the service as a real process. Type errors elsewhere in the tree do not stop
 * the emit; a missing entry point does.
 */
export async function buildServiceForProcessTests(): Promise<{ cli: string; remove(): void }> {
  const cache = path.resolve('node_modules/.cache');
  fs.mkdirSync(cache, { recursive: true });
  const outDir = fs.mkdtempSync(path.join(cache, 'salesreps-process-'));
  await run(process.execPath, [
    'node_modules/typescript/bin/tsc',
    '-p',
    'tsconfig.build.json',
    '--outDir',
    outDir,
    '--sourceMap',
    'false',
  ]).catch(() => undefined);
  const cli = path.join(outDir, 'cli.js');
  if (!fs.existsSync(cli)) throw new Error(`the service did not compile into ${outDir}`);
  return { cli, remove: () => fs.rmSync(outDir, { recursive: true, force: true }) };
}

export interface ServiceProcess {
  child: ChildProcess;
  port: number;
  /** Every JSON log line written so far. */
  logs: Record<string, unknown>[];
  exited: Promise<number | null>;
}

/** Starts `salesreps serve` on a free port and resolves once it listens. */
export async function startServiceProcess(cli: string, env: Record<string, string>): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [cli, 'serve'], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    let pending = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        const listening = String(entry.msg).match(/^Server listening at http:\/\/127\.0\.0\.1:(\d+)$/);
        if (listening) resolve(Number(listening[1]));
      }
    });
    void exited.then((code) => reject(new Error(`the service exited (${code}) before listening: ${stderr}`)));
  });
  return { child, port, logs, exited };
}
