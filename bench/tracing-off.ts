// Traces off, before and after: two builds' start and hot read, measured in alternation (docs/performance.md).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

/**
 * `npx tsx bench/tracing-off.ts --before DIR [--after DIR] [--rounds 5] [--seconds 5] [--database-url URL]`: the
 * service of `--before` (a checkout with its dist/ built) and of `--after` (default: this checkout), each started on a copy of one embedded
 * database (or on the empty PostgreSQL database given, shared) holding an organization and 30 reps, with no OTEL_
 * variable, in turn, A-B then B-A each round. Per start: the time from
 * spawning `serve` to its "Server listening" line, then `GET /api/organizations/salesreps` (page 1) for `--seconds`
 * over 10 connections after a 1 s warm-up. Besides wall time it reads the process's own CPU time (user + system,
 * /proc): the CPU a start takes and the CPU per request, which a loaded machine inflates far less than latency.
 * Prints each round and the median of each, and the load average.
 */
const { values } = parseArgs({
  options: {
    before: { type: 'string' },
    after: { type: 'string' },
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '5' },
    'database-url': { type: 'string' },
  },
});
if (!values.before) throw new Error('--before DIR: the checkout to compare with');
const builds = {
  before: path.resolve(values.before),
  after: path.resolve(values.after ?? path.join(import.meta.dirname, '..')),
};
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const ORG = 'org_bench_tracing';

const env = (dataDir: string) => ({
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? os.tmpdir(),
  DATA_DIR: dataDir,
  HOST: '127.0.0.1',
  PORT: '0',
  DEMO: 'false',
  LOG_LEVEL: 'info',
  RATE_LIMIT_MAX: '1000000',
  ...(values['database-url'] ? { DATABASE_URL: values['database-url'] } : {}),
});

const cli = (root: string) => path.join(root, 'dist', 'cli.js');

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

/** The CPU milliseconds (user + system) a process has used so far, from /proc/PID/stat. */
function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

/** Starts `serve`; answers its address, the milliseconds until it listened, and how to stop it. */
async function start(root: string, dataDir: string) {
  const started = performance.now();
  const child = spawn(process.execPath, [cli(root), 'serve'], {
    cwd: root,
    env: env(dataDir),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const listening = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (listening?.[1]) resolve(listening[1]);
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
  });
  const startMs = performance.now() - started;
  const pid = child.pid ?? 0;
  const startCpuMs = cpuMs(pid);
  // Drained so that the request log never blocks the process.
  child.stdout.on('data', () => {});
  const stop = () =>
    new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return { url, startMs, startCpuMs, cpuMs: () => cpuMs(pid), stop };
}

async function read(url: string, token: string, duration: number) {
  const result = await autocannon({
    url: `${url}/api/organizations/salesreps`,
    connections: 10,
    duration,
    headers: { authorization: `Bearer ${token}` },
  });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${result.non2xx} non-2xx, ${result.errors} errors`);
  return {
    requests: result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}

const seedDir = fs.mkdtempSync(path.join(os.tmpdir(), 'salesreps-bench-tracing-'));
execFileSync(
  process.execPath,
  [cli(builds.after), 'org', 'create', '--name', 'Bench', '--identity-org', ORG],
  {
    env: env(seedDir),
  },
);
const token = execFileSync(
  process.execPath,
  [cli(builds.after), 'token', '--org', ORG, '--user', 'bench_admin', '--role', 'Admin', '--ttl', '86400'],
  { env: env(seedDir) },
)
  .toString()
  .trim();
const seeding = await start(builds.after, seedDir);
for (let n = 0; n < 30; n++) {
  const response = await fetch(`${seeding.url}/api/organizations/salesreps`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      firstName: 'Bench',
      lastName: `Rep ${n}`,
      email: `bench${n}@example.com`,
      repNumber: `B-${n}`,
    }),
  });
  if (!response.ok) throw new Error(`seeding: ${response.status} ${await response.text()}`);
}
await seeding.stop();

type Name = keyof typeof builds;
type Figure = {
  startMs: number;
  startCpuMs: number;
  cpuUsPerRequest: number;
  rps: number;
  p50: number;
  p99: number;
};
const figures: Record<Name, Figure[]> = {
  before: [],
  after: [],
};
for (let round = 0; round < rounds; round++) {
  const order: Name[] = round % 2 === 0 ? ['before', 'after'] : ['after', 'before'];
  for (const name of order) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `salesreps-bench-tracing-${name}-`));
    fs.cpSync(seedDir, dataDir, { recursive: true });
    const service = await start(builds[name], dataDir);
    await read(service.url, token, 1);
    const cpuBefore = service.cpuMs();
    const { requests, ...measured } = await read(service.url, token, seconds);
    const cpuUsPerRequest = ((service.cpuMs() - cpuBefore) * 1000) / requests;
    await service.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    figures[name].push({
      startMs: service.startMs,
      startCpuMs: service.startCpuMs,
      cpuUsPerRequest,
      ...measured,
    });
    console.log(
      `round ${round + 1} ${name.padEnd(6)} start ${service.startMs.toFixed(0)} ms (CPU ${service.startCpuMs.toFixed(0)} ms), ` +
        `${cpuUsPerRequest.toFixed(0)} µs CPU/request, ` +
        `${measured.rps.toFixed(0)} req/s, p50 ${measured.p50} ms, p99 ${measured.p99} ms, load ${os.loadavg()[0]?.toFixed(1)}`,
    );
  }
}
fs.rmSync(seedDir, { recursive: true, force: true });

const median = (numbers: number[]) => {
  const sorted = [...numbers].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};
for (const key of ['startMs', 'startCpuMs', 'cpuUsPerRequest', 'rps', 'p50', 'p99'] as const) {
  const before = median(figures.before.map((figure) => figure[key]));
  const after = median(figures.after.map((figure) => figure[key]));
  const ratios = figures.after.map((figure, index) => figure[key] / (figures.before[index]?.[key] ?? 1));
  console.log(
    `${key.padEnd(15)} before ${before.toFixed(1)}  after ${after.toFixed(1)}  paired after/before median ${median(ratios).toFixed(3)}`,
  );
}
console.log(
  `load average ${os
    .loadavg()
    .map((load) => load.toFixed(1))
    .join(' ')}, ${os.cpus().length} cores`,
);
