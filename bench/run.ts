import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { sql } from 'kysely';
import pg from 'pg';
import { openLocalIssuer } from '../src/auth/local-issuer.js';
import { loadConfig } from '../src/config.js';
import { migrateToLatest, openDatabase } from '../src/db/database.js';
import { runConsoleBench } from './console.js';
import {
  assignmentOf,
  BIG_ORGANIZATION,
  CUSTOMERS_PER_BIG_ORGANIZATION_REP,
  type DatasetSize,
  extraOrganizationsOf,
  firstOrganizationOf,
  identityOrganizationOf,
  identityUserOf,
  type LoadResult,
  loadEmbeddedDataset,
  loadPostgresDataset,
  WRITES_ORGANIZATION,
} from './dataset.js';
import { runEventScenarios } from './events.js';
import { runSigninBench } from './signin.js';
import { runSigninAttackBench } from './signin-attack.js';

/**
 * `npm run bench [-- --quick] [-- --seed-only] [-- --embedded-only]` (`--signin`, `--signin-attack [--before DIR]`, `--console`:
 * bench/signin.ts, bench/signin-attack.ts, bench/console.ts): loads (or reuses) the dataset, starts the service as in
 * production and the bare baseline, loads each with autocannon in turn after a warm-up, prints the table and
 * writes it to bench/results/. Figures are reported, never judged: nothing here fails on a number.
 */

const { values: options } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'seed-only': { type: 'boolean', default: false },
    // e.g. --scenarios 2,3: only those (and no embedded line), to look at one thing.
    scenarios: { type: 'string' },
    // only the embedded line (scenarios 1 and 5 on PGlite), without the PostgreSQL scenarios.
    'embedded-only': { type: 'boolean', default: false },
    signin: { type: 'boolean', default: false },
    console: { type: 'boolean', default: false },
    'signin-attack': { type: 'boolean', default: false },
    // with --signin-attack: another built checkout (a worktree of an older commit) to measure beside this one
    before: { type: 'string' },
  },
});
const quick = options.quick ?? false;

const SIZES: Record<'full' | 'quick', { postgres: DatasetSize; embedded: DatasetSize }> = {
  full: {
    postgres: {
      organizations: 10_000,
      reps: 1_000_000,
      bigOrganizationReps: 100_000,
      customers: 1_000_000,
      bigOrganizationCustomers: 100_000,
    },
    embedded: {
      organizations: 1_000,
      reps: 100_000,
      bigOrganizationReps: 10_000,
      customers: 0,
      bigOrganizationCustomers: 0,
    },
  },
  quick: {
    postgres: {
      organizations: 200,
      reps: 20_000,
      bigOrganizationReps: 5_000,
      customers: 20_000,
      bigOrganizationCustomers: 2_000,
    },
    embedded: {
      organizations: 50,
      reps: 2_000,
      bigOrganizationReps: 500,
      customers: 0,
      bigOrganizationCustomers: 0,
    },
  },
};
const mode = quick ? 'quick' : 'full';
const sizes = SIZES[mode];
const WARM_UP_SECONDS = quick ? 1 : 3;
const MEASURE_SECONDS = quick ? 2 : 12;
/** Rounds of service and baseline in turn where there is a baseline (MEASURE_SECONDS split between them). */
const ROUNDS = quick ? 1 : 3;
/**
 * Load each process takes once after it starts, before the first scenario: a process seconds old still compiles
 * its hot code and sizes its heap, which a scenario's own 3 s warm-up did not cover (docs/performance.md, "The
 * first round").
 */
const SETTLE_SECONDS = quick ? 1 : 10;
/** A round whose service/baseline ratio is this far (relative) from the median round's is flagged. */
const ROUND_FLAG_DEVIATION = 0.25;
const CONNECTIONS = 10;
const PAGE_SIZE = 25;

// This file runs compiled, from dist/.bench/bench/ in the checkout.
const here = path.dirname(fileURLToPath(import.meta.url));
const checkout = path.resolve(here, '..', '..', '..');
const resultsDir = path.join(checkout, 'bench', 'results');

function databaseUrl(): string {
  const url = new URL(process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/salesreps_bench');
  if (quick) url.pathname = `${url.pathname}_quick`;
  return url.toString();
}

const log = (line: string) => process.stdout.write(`${line}\n`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function waitForHealth(url: string, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    if (child.exitCode !== null) throw new Error(`${url}: the process exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer in a minute`);
}

interface Process {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
  /** Peak resident set size so far (VmHWM), in MB. */
  peakRssMb(): number | undefined;
  /** The service's effects recorded and not yet carried out (its metrics); absent for the baseline. */
  effectsPending?: () => Promise<number>;
}

function track(child: ChildProcess, url: string, name: string): Process {
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr.push(chunk.toString());
    if (stderr.length > 50) stderr.shift();
  });
  child.once('exit', (code, signal) => {
    if (code && signal !== 'SIGTERM') log(`${name} exited with ${code}:\n${stderr.join('')}`);
  });
  return {
    url,
    child,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
    peakRssMb: () => {
      try {
        const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const kb = Number(status.match(/VmHWM:\s+(\d+) kB/)?.[1]);
        return Number.isFinite(kb) ? Math.round(kb / 1024) : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

/**
 * The command `npm start` runs (`node dist/cli.js serve`, from package.json, so that the two never differ),
 * run by this Node, with the logs at warn.
 */
function startCommand(dir: string): string[] {
  const packageJson = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const [program, ...args] = String(packageJson.scripts.start).split(/\s+/);
  if (program !== 'node')
    throw new Error(`npm start runs ${program}, not node: the benchmark cannot start it`);
  return args;
}

async function startService(env: Record<string, string>, dir = checkout): Promise<Process> {
  const port = await freePort();
  const child = spawn(process.execPath, startCommand(dir), {
    cwd: dir,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      DEMO: 'false',
      // A few users make every request here: the limiter stays on, with a limit the load never reaches.
      RATE_LIMIT_MAX: '1000000',
      METRICS_TOKEN,
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(`${url}/healthz`, child);
  return { ...track(child, url, 'the service'), effectsPending: () => effectsPendingOf(url) };
}

/** Guards the service's /metrics on its public port, which the runner reads for the effects still pending. */
const METRICS_TOKEN = 'bench-metrics-token-of-the-runner';

/** The sum of the service's `effects_pending` gauge (every kind). */
async function effectsPendingOf(url: string): Promise<number> {
  const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  const text = await response.text();
  let pending = 0;
  for (const match of text.matchAll(/^\w*effects_pending\{[^}]*\} (\d+)$/gm)) pending += Number(match[1]);
  return pending;
}

async function startBaseline(url: string): Promise<Process> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(here, 'baseline.js')], {
    env: { ...process.env, DATABASE_URL: url, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const process_ = track(child, `http://127.0.0.1:${port}`, 'the baseline');
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      await fetch(`${process_.url}/`);
      return process_;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error('the baseline did not start');
}

interface Figures {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  errors: number;
  /** CPU time the process under load spent per request (its own, not the database's). */
  cpuMsPerRequest?: number;
  /** The count of each status other than 200, when there are any. */
  otherStatuses?: Record<string, number>;
  /** The machine's 1-minute load average when the measured load started and when it ended. */
  load?: { before: number; after: number };
  /**
   * How long after the load the service took to carry out the effects still pending (a write scenario's CPU per
   * request counts that work too); absent where nothing is waited for.
   */
  effectsDrainSeconds?: number;
}

interface Request {
  method: 'GET' | 'PUT';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** Loads the target with one request maker for a while; each request is made just before it is sent. */
async function load(baseUrl: string, next: () => Request, seconds: number): Promise<Figures> {
  const result = await autocannon({
    url: baseUrl,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        setupRequest: (request) => {
          const made = next();
          return {
            ...request,
            method: made.method,
            path: made.path,
            headers: { ...made.headers, ...(made.body ? { 'content-type': 'application/json' } : {}) },
            body: made.body ?? '',
          };
        },
      },
    ],
  });
  const otherStatuses = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {})
      .filter(([status]) => status !== '200')
      .map(([status, stats]) => [status, stats.count ?? 0]),
  );
  return {
    ...(Object.keys(otherStatuses).length > 0 ? { otherStatuses } : {}),
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

/** User and system CPU time of a process so far, in ms (Linux; undefined elsewhere). */
function cpuMs(pid: number | undefined): number | undefined {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    // utime and stime, the 14th and 15th fields of the line, in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** The longest wait for a write scenario's effects to be carried out after its load. */
const EFFECTS_DRAIN_LIMIT_SECONDS = 120;
/** How often the runner looks at the service's pending effects while it waits for them. */
const DRAIN_LOOK_MS = 500;

/**
 * Waits until the service has carried out every effect pending (or EFFECTS_DRAIN_LIMIT_SECONDS passed), answering
 * how long it took: the effect worker's share of a write, which a backlog left at the end of the load would
 * otherwise leave out of the CPU per request.
 */
async function drainEffects(target: Process): Promise<number | undefined> {
  if (!target.effectsPending) return undefined;
  const started = performance.now();
  while (performance.now() - started < EFFECTS_DRAIN_LIMIT_SECONDS * 1000) {
    if ((await target.effectsPending()) === 0) break;
    // Each look is a scrape of the service's metrics, whose CPU time counts too: seldom enough to weigh little.
    await new Promise((resolve) => setTimeout(resolve, DRAIN_LOOK_MS));
  }
  return Math.round(performance.now() - started) / 1000;
}

/**
 * A warm-up, then the measured load, with the CPU time the target process spent per answered request; with
 * `drain`, until the effects the requests recorded were carried out too (drainEffects).
 */
async function measure(
  target: Process,
  next: () => Request,
  before?: () => Promise<void>,
  seconds = MEASURE_SECONDS,
  drain = false,
): Promise<Figures> {
  await before?.();
  await load(target.url, next, WARM_UP_SECONDS);
  if (drain) await drainEffects(target);
  await before?.();
  const loadBefore = loadAverage();
  const cpuBefore = cpuMs(target.child.pid);
  const loaded = await load(target.url, next, seconds);
  const loadAfter = loadAverage();
  const effectsDrainSeconds = drain ? await drainEffects(target) : undefined;
  const cpuAfter = cpuMs(target.child.pid);
  const figures = {
    ...loaded,
    load: { before: loadBefore, after: loadAfter },
    ...(effectsDrainSeconds === undefined ? {} : { effectsDrainSeconds }),
  };
  if (cpuBefore === undefined || cpuAfter === undefined || figures.requests === 0) return figures;
  return {
    ...figures,
    cpuMsPerRequest: Math.round(((cpuAfter - cpuBefore) / figures.requests) * 1000) / 1000,
  };
}

/** The machine's 1-minute load average, to two decimals. */
function loadAverage(): number {
  return Math.round((os.loadavg()[0] ?? 0) * 100) / 100;
}

/**
 * Measures `ROUNDS` times, `MEASURE_SECONDS` split between them, for a figure of the service alone: the round with
 * the median rate is reported, and every round is kept for the spread.
 */
async function measureRounds(
  target: Process,
  next: () => Request,
  drain: boolean,
): Promise<{ median: Figures; rounds: Figures[] }> {
  const rounds: Figures[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    rounds.push(await measure(target, next, undefined, MEASURE_SECONDS / ROUNDS, drain));
  }
  const sorted = [...rounds].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
  return { median: sorted[Math.floor(sorted.length / 2)] as Figures, rounds };
}

/** `min–max` of a figure over rounds (one value when they agree), or '?' when no round has it. */
function range(values: readonly (number | undefined)[]): string {
  const known = values.filter((value): value is number => value !== undefined);
  if (known.length === 0) return '?';
  const low = Math.min(...known);
  const high = Math.max(...known);
  return low === high ? String(low) : `${low}–${high}`;
}

/** The spread of each figure of one process over its rounds. */
function spreadOf(rounds: readonly Figures[]): string {
  return (
    `${range(rounds.map((r) => r.requestsPerSecond))} req/s, p50 ${range(rounds.map((r) => r.p50Ms))} ms,` +
    ` p99 ${range(rounds.map((r) => r.p99Ms))} ms, ${range(rounds.map((r) => r.cpuMsPerRequest))} ms CPU/request`
  );
}

interface Round {
  service: Figures;
  baseline: Figures;
  /** Why this round is far from the others (its ratio against the median's); absent for a steady round. */
  flagged?: string;
}

const ratioOf = (round: Round) => round.service.requestsPerSecond / round.baseline.requestsPerSecond;

/** How much the load average may move within a round, relative to where it was, before it is named as the cause. */
const LOAD_CHANGE = 0.3;

/** The mean load average over a measurement, from its two readings. */
const loadDuring = (figures: Figures) =>
  figures.load ? (figures.load.before + figures.load.after) / 2 : undefined;

/**
 * The likely cause of a round far from the median: the machine's load moving between the service's half and the
 * baseline's (the two halves did not meet the same machine), else what the CPU per request says — both processes'
 * up: a busy machine; only the service's: its own extra work (a collection, the effect worker's backlog); neither:
 * waiting (the database, a lock).
 */
function causeOf(round: Round, median: Round): string {
  const serviceLoad = loadDuring(round.service);
  const baselineLoad = loadDuring(round.baseline);
  if (serviceLoad !== undefined && baselineLoad !== undefined) {
    const higher = Math.max(serviceLoad, baselineLoad);
    if (higher > 0 && Math.abs(serviceLoad - baselineLoad) / higher > LOAD_CHANGE) {
      return `load changed: ${serviceLoad.toFixed(1)} during the service, ${baselineLoad.toFixed(1)} during the baseline`;
    }
  }
  const up = (figures: Figures, reference: Figures) =>
    figures.cpuMsPerRequest !== undefined &&
    reference.cpuMsPerRequest !== undefined &&
    figures.cpuMsPerRequest > reference.cpuMsPerRequest * (1 + LOAD_CHANGE);
  const serviceUp = up(round.service, median.service);
  const baselineUp = up(round.baseline, median.baseline);
  if (serviceUp && baselineUp) return 'the machine was busier: both processes spent more CPU per request';
  if (serviceUp) return "the service's own extra work: only its CPU per request rose";
  if (baselineUp) return "the baseline's own extra work: only its CPU per request rose";
  return 'waiting (the database or a lock): neither CPU per request rose';
}

/**
 * Flags every round whose ratio is more than ROUND_FLAG_DEVIATION from the median round's, with both processes'
 * rates, CPU per request and load, and its likely cause (causeOf). Answers the warning lines.
 */
function flagRounds(rounds: Round[], median: Round): string[] {
  const medianRatio = ratioOf(median);
  const warnings: string[] = [];
  rounds.forEach((round, index) => {
    const ratio = ratioOf(round);
    if (Math.abs(ratio / medianRatio - 1) <= ROUND_FLAG_DEVIATION) return;
    const load = (figures: Figures) =>
      figures.load ? `, load ${figures.load.before}→${figures.load.after}` : '';
    round.flagged =
      `round ${index + 1} at ${ratio.toFixed(2)} of its baseline against the median round's ${medianRatio.toFixed(2)}` +
      ` (service ${round.service.requestsPerSecond} req/s, ${round.service.cpuMsPerRequest ?? '?'} ms CPU/request${load(round.service)};` +
      ` baseline ${round.baseline.requestsPerSecond} req/s, ${round.baseline.cpuMsPerRequest ?? '?'} ms${load(round.baseline)})` +
      ` — likely ${causeOf(round, median)}`;
    warnings.push(round.flagged);
  });
  return warnings;
}

/** The round whose service/baseline ratio is the median one. */
function medianByRatio(rounds: Round[]): Round {
  const sorted = [...rounds].sort((a, b) => ratioOf(a) - ratioOf(b));
  return sorted[Math.floor(sorted.length / 2)] as Round;
}

const pick = <T>(values: readonly T[]): T => values[Math.floor(Math.random() * values.length)] as T;

interface Scenario {
  id: number;
  name: string;
  target: string;
  next: () => Request;
  /** Whether the baseline runs it: where it is the same statements for the same answer. */
  baseline: boolean;
  /** Run before the warm-up and before the measurement (scenario 5 empties its organization). */
  before?: () => Promise<void>;
  /** Whether its requests record effects, which the service's CPU per request includes carrying out. */
  recordsEffects?: boolean;
}

interface ScenarioResult {
  id: number;
  name: string;
  target: string;
  service: Figures;
  baseline?: Figures;
  ratio?: number;
  rounds?: Round[];
  /** The flagged rounds' lines (flagRounds), also printed as warnings. */
  warnings?: string[];
  /** The machine's 1-minute load average before and after the scenario. */
  machineLoad?: { before: number; after: number };
}

/** Compares one answer of the service and of the baseline: the same status, body and paging headers. */
async function sameAnswer(serviceUrl: string, baselineUrl: string, request: Request): Promise<boolean> {
  const [a, b] = await Promise.all(
    [serviceUrl, baselineUrl].map(async (base) => {
      const response = await fetch(`${base}${request.path}`, {
        method: request.method,
        headers: request.headers,
      });
      return {
        status: response.status,
        body: await response.text(),
        total: response.headers.get('x-total-count'),
        link: response.headers.get('link'),
      };
    }),
  );
  return JSON.stringify(a) === JSON.stringify(b);
}

function sampleReps(size: DatasetSize, wanted: (i: number) => boolean, count: number): number[] {
  const reps: number[] = [];
  for (let i = 1; i <= size.reps && reps.length < count; i++) if (wanted(i)) reps.push(i);
  return reps;
}

async function main() {
  fs.mkdirSync(resultsDir, { recursive: true });
  if (options.signin)
    return void (await runSigninBench(startService, { quick, log, postgresUrl: databaseUrl() }));
  if (options.console) return void (await runConsoleBench(startService, { quick, log }));
  if (options['signin-attack']) {
    const checkouts = [
      ...(options.before ? [{ label: `before (${options.before})`, dir: path.resolve(options.before) }] : []),
      { label: 'this checkout', dir: checkout },
    ];
    const figures = await runSigninAttackBench((dir, env) => startService(env, dir), {
      checkouts,
      quick,
      log,
    });
    const file = path.join(
      resultsDir,
      `${new Date().toISOString().replace(/[:.]/g, '-')}-signin-attack.json`,
    );
    fs.writeFileSync(file, `${JSON.stringify({ machineLoad: os.loadavg(), figures }, null, 2)}\n`);
    return void log(`written to ${path.relative(checkout, file)}`);
  }
  const url = databaseUrl();
  log(`Dataset (${mode}) in ${url.replace(/\/\/[^@]*@/, '//')}:`);
  const loaded = await loadPostgresDataset(url, sizes.postgres, log);
  log(loaded.reused ? '  reused the loaded dataset' : `  loaded in ${loaded.seconds.toFixed(0)} s`);
  const embeddedDir = path.join(checkout, 'bench', 'data', `pglite-${sizes.embedded.reps}`);
  if (options['seed-only']) {
    await loadEmbedded(embeddedDir);
    return;
  }

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'salesreps-bench-'));
  const keyFile = path.join(work, 'issuer-key.json');
  const issuer = await openLocalIssuer(loadConfig({ DATA_DIR: work, AUTH_LOCAL_KEY_FILE: keyFile }).auth);
  const sign = (organization: string, userId: string, role: string) =>
    issuer.sign({ organization, userId, roles: [role] }, 3600);
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  if (options['embedded-only']) {
    try {
      const embeddedLoaded = await loadEmbedded(embeddedDir);
      const embedded = await runEmbedded(embeddedDir, embeddedLoaded.size, keyFile, sign, bearer);
      const finishedAt = new Date().toISOString();
      const file = path.join(resultsDir, `${finishedAt.replace(/[:.]/g, '-')}-${mode}-embedded.json`);
      const report = { mode, finishedAt, dataset: { embedded: embeddedLoaded }, embedded };
      fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
      log(`\nPeak RSS of the embedded service: ${embedded.peakRssMb ?? '?'} MB`);
      return void log(`Written to ${path.relative(checkout, file)}`);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  // A vacuum at load time cannot mark pages all-visible while another session's older transaction runs (other
  // databases' included); index-only scans need those marks, so vacuum again (cheap once done).
  await admin.query('vacuum organization_sales_rep, organization_assignment_count');
  const visibility = await admin.query(
    "select relallvisible, relpages from pg_class where relname = 'organization_sales_rep'",
  );
  log(
    `  all-visible pages of organization_sales_rep: ${visibility.rows[0]?.relallvisible} of ${visibility.rows[0]?.relpages}`,
  );
  const servers: Process[] = [];
  try {
    const serviceEnv = (name: string) => ({
      DATABASE_URL: url,
      DATA_DIR: path.join(work, name),
      AUTH_LOCAL_KEY_FILE: keyFile,
      WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true',
    });
    const service = await startService(serviceEnv('service'));
    servers.push(service);
    const baseline = await startBaseline(url);
    servers.push(baseline);
    const results = await runScenarios(service, baseline, loaded, sign, bearer, admin);
    const writes = await sign(WRITES_ORGANIZATION, 'admin_writes', 'Admin');
    if (!options.scenarios || /[789]/.test(options.scenarios))
      results.push(
        ...(await runEventScenarios({
          ...{ admin, quick, rounds: ROUNDS, measureSeconds: MEASURE_SECONDS, log, serviceUrl: service.url },
          startReplica: () => startService(serviceEnv('replica')),
          only: options.scenarios?.split(',').map(Number),
          measure: (next, before, seconds) => measure(service, next, before, seconds),
          adminHeaders: async (organization) => bearer(await sign(organization, 'admin_events', 'Admin')),
          put: putScenario(writes, bearer, () => emptyWritesOrganization((text) => admin.query(text))),
        })),
      );
    const countCost = await timeCount(admin);
    const serviceRss = service.peakRssMb();
    await service.stop();
    await baseline.stop();

    // Checked (and loaded if need be) only now: an open PGlite engine holds ~780 MB in this process, which also
    // generates the load, and none of it should be in memory, or being freed, while the scenarios above run.
    const embeddedLoaded = options.scenarios ? undefined : await loadEmbedded(embeddedDir);
    const embedded = embeddedLoaded
      ? await runEmbedded(embeddedDir, embeddedLoaded.size, keyFile, sign, bearer)
      : undefined;
    const report = {
      mode,
      finishedAt: new Date().toISOString(),
      machine: { cpus: os.cpus().length, node: process.version, connections: CONNECTIONS },
      seconds: { warmUp: WARM_UP_SECONDS, measure: MEASURE_SECONDS },
      dataset: { postgres: loaded, embedded: embeddedLoaded },
      scenarios: results,
      totalCountMs: countCost,
      servicePeakRssMb: serviceRss,
      embedded,
    };
    const file = path.join(resultsDir, `${report.finishedAt.replace(/[:.]/g, '-')}-${mode}.json`);
    fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    if (!options.scenarios) {
      fs.writeFileSync(path.join(resultsDir, `latest-${mode}.json`), `${JSON.stringify(report, null, 2)}\n`);
    }
    log('');
    log(table(results, embedded, countCost, serviceRss));
    log(`\nWritten to ${path.relative(checkout, file)}`);
  } finally {
    for (const server of servers) await server.stop();
    await admin.end();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

type Sign = (organization: string, userId: string, role: string) => Promise<string>;
type Bearer = (token: string) => Record<string, string>;

/**
 * Empties the organization that takes the PUTs, so that every run starts from the same state. Autocannon stops
 * without waiting for the answers in flight, so their transactions get a moment to end first.
 */
async function emptyWritesOrganization(query: (text: string) => Promise<unknown>) {
  await new Promise((resolve) => setTimeout(resolve, 500));
  const organization = `(select id from organization where identity_organization_id = '${WRITES_ORGANIZATION}')`;
  await query(`delete from effect where organization_id = ${organization}`);
  await query(`delete from organization_sales_rep where organization_id = ${organization}`);
  await query(`delete from sales_rep r where email like 'put-%@bench.example'
    and not exists (select 1 from organization_sales_rep a where a.sales_rep_id = r.id)`);
}

function putScenario(token: string, bearer: Bearer, before: () => Promise<void>): Scenario {
  let sequence = 0;
  const run = Date.now().toString(36);
  return {
    id: 5,
    name: 'PUT a new rep (effects recorded)',
    target: '≥ 0.5 × baseline',
    baseline: true,
    before,
    recordsEffects: true,
    next: () => {
      sequence += 1;
      return {
        method: 'PUT',
        path: '/api/organizations/salesreps',
        headers: bearer(token),
        body: JSON.stringify({
          firstName: 'Bench',
          lastName: `Writer ${sequence}`,
          email: `put-${run}-${sequence}@bench.example`,
          phoneNumber: '+1 555 0100',
          repNumber: `P-${run}-${sequence}`,
        }),
      };
    },
  };
}

async function runScenarios(
  service: Process,
  baseline: Process,
  loaded: LoadResult,
  sign: Sign,
  bearer: Bearer,
  admin: pg.Client,
): Promise<ScenarioResult[]> {
  const size = loaded.size;
  const typicalOrganizations = Array.from(
    { length: 100 },
    () => 2 + Math.floor(Math.random() * (size.organizations - 1)),
  );
  const adminTokens = await Promise.all(
    typicalOrganizations.map(async (n) =>
      bearer(await sign(identityOrganizationOf(n), `admin_${n}`, 'Admin')),
    ),
  );
  const bigAdmin = bearer(await sign(BIG_ORGANIZATION, 'admin_big', 'Admin'));
  const bigLastPage = Math.ceil(size.bigOrganizationReps / PAGE_SIZE);
  const sortFields = ['RepNumber', 'FirstName', 'LastName', 'Email', 'PhoneNumber', 'Active'];
  const listPath = (pageNumber: number, sortOn = 'RepNumber', sortDirection = 'asc') =>
    `/api/organizations/salesreps?pageNumber=${pageNumber}&pageSize=${PAGE_SIZE}&sortOn=${sortOn}&sortDirection=${sortDirection}`;
  // Reps in five organizations (every 80th from the 60th), each with a token of its first organization.
  const fiveOrganizationReps = sampleReps(size, (i) => extraOrganizationsOf(i) === 4, 200);
  const repTokens = await Promise.all(
    fiveOrganizationReps.map(async (i) =>
      bearer(await sign(identityOrganizationOf(firstOrganizationOf(i, size)), identityUserOf(i), 'SalesRep')),
    ),
  );
  const writesToken = await sign(WRITES_ORGANIZATION, 'admin_writes', 'Admin');

  const scenarios: Scenario[] = [
    {
      id: 1,
      name: 'page 1 by RepNumber, a random typical organization',
      target: '≥ 0.8 × baseline',
      baseline: true,
      next: () => ({ method: 'GET', path: listPath(1), headers: pick(adminTokens) }),
    },
    {
      id: 2,
      name: `random pages of ${BIG_ORGANIZATION}, every sort field and direction`,
      target: 'p50 ≤ 20 ms, p99 ≤ 50 ms',
      baseline: false,
      next: () => ({
        method: 'GET',
        path: listPath(1 + Math.floor(Math.random() * bigLastPage), pick(sortFields), pick(['asc', 'desc'])),
        headers: bigAdmin,
      }),
    },
    {
      id: 3,
      name: `the last page of ${BIG_ORGANIZATION}, every sort field and direction`,
      target: 'p50 ≤ 20 ms, p99 ≤ 50 ms',
      baseline: false,
      next: () => ({
        method: 'GET',
        path: listPath(bigLastPage, pick(sortFields), pick(['asc', 'desc'])),
        headers: bigAdmin,
      }),
    },
    {
      id: 4,
      name: 'my organizations, a rep in 5 organizations',
      target: '—',
      baseline: true,
      next: () => ({ method: 'GET', path: '/api/salesreps/organizations', headers: pick(repTokens) }),
    },
    putScenario(writesToken, bearer, () => emptyWritesOrganization((text) => admin.query(text))),
  ];
  // What an admin types in the search box: the first 1–6 characters of a random rep's first name, last name,
  // email or rep number, in any letter case, so that some searches match a few reps and some ("r", "rep") nearly
  // all; a random sort, the first page.
  const searchPath = () => {
    const rep = assignmentOf(1 + Math.floor(Math.random() * size.bigOrganizationReps));
    const field = pick([rep.firstName, rep.lastName, rep.email, rep.repNumber]);
    const prefix = field.slice(0, 1 + Math.floor(Math.random() * 6));
    const text = Math.random() < 0.5 ? prefix.toLowerCase() : prefix.toUpperCase();
    return `${listPath(1, pick(sortFields), pick(['asc', 'desc']))}&search=${encodeURIComponent(text)}`;
  };
  // Every 20th rep is deactivated.
  const deactivatedReps = Math.floor(size.bigOrganizationReps / 20);
  const activeLastPage = {
    true: Math.ceil((size.bigOrganizationReps - deactivatedReps) / PAGE_SIZE),
    false: Math.ceil(deactivatedReps / PAGE_SIZE),
  };
  scenarios.push(
    {
      id: 10,
      name: `a search of ${BIG_ORGANIZATION} (a prefix of a name, email or rep number), page 1`,
      target: 'p99 ≤ 50 ms',
      baseline: false,
      next: () => ({ method: 'GET', path: searchPath(), headers: bigAdmin }),
    },
    {
      id: 11,
      name: `random pages of ${BIG_ORGANIZATION}'s active or deactivated reps, every sort field and direction`,
      target: '—',
      baseline: false,
      next: () => {
        const active = pick(['true', 'false'] as const);
        const pageNumber = 1 + Math.floor(Math.random() * activeLastPage[active]);
        return {
          method: 'GET',
          path: `${listPath(pageNumber, pick(sortFields), pick(['asc', 'desc']))}&active=${active}`,
          headers: bigAdmin,
        };
      },
    },
  );
  if (size.customers > 0) {
    // Big-organization reps 1..n serve 10 customers each; every 20th from the 7th is inactive.
    const servingReps = sampleReps(
      size,
      (i) => i <= size.bigOrganizationCustomers / CUSTOMERS_PER_BIG_ORGANIZATION_REP && i % 20 !== 7,
      200,
    );
    const customerTokens = await Promise.all(
      servingReps.map(async (i) => bearer(await sign(BIG_ORGANIZATION, identityUserOf(i), 'SalesRep'))),
    );
    scenarios.push({
      id: 6,
      name: `a rep's customers, page 1, in ${BIG_ORGANIZATION}`,
      target: '—',
      baseline: false,
      next: () => ({
        method: 'GET',
        path: '/api/customers?pageNumber=1&pageSize=25',
        headers: pick(customerTokens),
      }),
    });
  }

  const only = options.scenarios?.split(',').map(Number);
  const results: ScenarioResult[] = [];
  // Scenario 1's reads settle both processes, whichever scenarios run.
  const settling = scenarios[0];
  if (settling) {
    log(`Settling the service and the baseline (${SETTLE_SECONDS} s of scenario 1 each)`);
    await load(service.url, settling.next, SETTLE_SECONDS);
    await load(baseline.url, settling.next, SETTLE_SECONDS);
  }
  for (const scenario of scenarios.filter((candidate) => !only || only.includes(candidate.id))) {
    if (scenario.baseline && scenario.next().method === 'GET') {
      const same = await sameAnswer(service.url, baseline.url, scenario.next());
      if (!same) log(`  scenario ${scenario.id}: the baseline's answer differs from the service's`);
    }
    log(`Scenario ${scenario.id}: ${scenario.name}`);
    const loadBefore = loadAverage();
    if (!scenario.baseline) {
      const serviceFigures = await measure(
        service,
        scenario.next,
        scenario.before,
        MEASURE_SECONDS,
        scenario.recordsEffects,
      );
      log(`  service  ${describe(serviceFigures)}`);
      const machineLoad = { before: loadBefore, after: loadAverage() };
      log(`  load average before ${machineLoad.before}, after ${machineLoad.after}`);
      results.push({
        id: scenario.id,
        name: scenario.name,
        target: scenario.target,
        service: serviceFigures,
        machineLoad,
      });
      continue;
    }
    // The two in turn, ROUNDS times, each round a pair measured back to back; the figures are the round with the
    // median ratio, so that a burst of load from other processes on the shared cores moves one pair, not the
    // comparison, and the rates shown are the ones the ratio was taken from.
    const rounds: Round[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const serviceRound = await measure(
        service,
        scenario.next,
        scenario.before,
        MEASURE_SECONDS / ROUNDS,
        scenario.recordsEffects,
      );
      const baselineRound = await measure(baseline, scenario.next, scenario.before, MEASURE_SECONDS / ROUNDS);
      rounds.push({ service: serviceRound, baseline: baselineRound });
    }
    const machineLoad = { before: loadBefore, after: loadAverage() };
    const medianRound = medianByRatio(rounds);
    log(`  service  ${describe(medianRound.service)}`);
    log(`  baseline ${describe(medianRound.baseline)}`);
    log(
      `  spread over ${rounds.length} rounds: ratio ${range(rounds.map((round) => Math.round(ratioOf(round) * 100) / 100))}`,
    );
    log(`    service  ${spreadOf(rounds.map((round) => round.service))}`);
    log(`    baseline ${spreadOf(rounds.map((round) => round.baseline))}`);
    log(`  load average before ${machineLoad.before}, after ${machineLoad.after}`);
    const warnings = flagRounds(rounds, medianRound);
    for (const warning of warnings) log(`  WARNING: ${warning}`);
    const result: ScenarioResult = {
      id: scenario.id,
      name: scenario.name,
      target: scenario.target,
      service: medianRound.service,
      baseline: medianRound.baseline,
      ratio: Math.round(ratioOf(medianRound) * 100) / 100,
      rounds,
      ...(warnings.length > 0 ? { warnings } : {}),
      machineLoad,
    };
    results.push(result);
  }
  return results;
}

/** What X-Total-Count of the big organization costs: the service's count statement, timed from the client. */
async function timeCount(admin: pg.Client): Promise<{ p50Ms: number; p99Ms: number; count: number }> {
  const { rows } = await admin.query('select id from organization where identity_organization_id = $1', [
    BIG_ORGANIZATION,
  ]);
  const times: number[] = [];
  let count = 0;
  for (let i = 0; i < 200; i++) {
    const started = performance.now();
    const result = await admin.query(
      'select "assignment_count" from "organization_assignment_count" where "organization_id" = $1',
      [rows[0]?.id],
    );
    times.push(performance.now() - started);
    count = result.rows[0]?.assignment_count;
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => Math.round((times[Math.floor(q * (times.length - 1))] ?? 0) * 100) / 100;
  return { p50Ms: at(0.5), p99Ms: at(0.99), count };
}

/** The embedded dataset, reused when its folder holds the wanted size, else loaded. */
async function loadEmbedded(embeddedDir: string): Promise<LoadResult> {
  log(`Embedded dataset in ${embeddedDir}:`);
  const embeddedLoaded = await loadEmbeddedDataset(embeddedDir, sizes.embedded, log);
  log(
    embeddedLoaded.reused
      ? '  reused the loaded dataset'
      : `  loaded in ${embeddedLoaded.seconds.toFixed(0)} s`,
  );
  return embeddedLoaded;
}

/** Scenarios 1 and 5 on the embedded database (PGlite), the service alone. */
async function runEmbedded(dataDir: string, size: DatasetSize, keyFile: string, sign: Sign, bearer: Bearer) {
  const database = await openDatabase({ dataDir });
  try {
    await migrateToLatest(database.db);
    await emptyWritesOrganization((text) => sql.raw(text).execute(database.db));
  } finally {
    await database.close();
  }
  const service = await startService({ DATA_DIR: dataDir, AUTH_LOCAL_KEY_FILE: keyFile });
  try {
    const organizations = Array.from(
      { length: 50 },
      () => 2 + Math.floor(Math.random() * (size.organizations - 1)),
    );
    const tokens = await Promise.all(
      organizations.map(async (n) => bearer(await sign(identityOrganizationOf(n), `admin_${n}`, 'Admin'))),
    );
    log(`Embedded (PGlite, ${size.reps.toLocaleString('en')} reps), scenario 1`);
    const page = await measureEmbedded(service, () => ({
      method: 'GET',
      path: `/api/organizations/salesreps?pageNumber=1&pageSize=${PAGE_SIZE}&sortOn=RepNumber&sortDirection=asc`,
      headers: pick(tokens),
    }));
    log('Embedded, scenario 5');
    const put = putScenario(await sign(WRITES_ORGANIZATION, 'admin_writes', 'Admin'), bearer, async () => {});
    const writes = await measureEmbedded(service, put.next, true);
    return {
      reps: size.reps,
      scenario1: page.median,
      scenario5: writes.median,
      rounds: { scenario1: page.rounds, scenario5: writes.rounds },
      machineLoad: { scenario1: page.machineLoad, scenario5: writes.machineLoad },
      peakRssMb: service.peakRssMb(),
    };
  } finally {
    await service.stop();
  }
}

/** An embedded scenario in rounds, printed with its spread and the load around it. */
async function measureEmbedded(service: Process, next: () => Request, drain = false) {
  const before = loadAverage();
  const { median, rounds } = await measureRounds(service, next, drain);
  const machineLoad = { before, after: loadAverage() };
  log(`  service  ${describe(median)}`);
  log(`  spread over ${rounds.length} rounds: ${spreadOf(rounds)}`);
  log(`  load average before ${machineLoad.before}, after ${machineLoad.after}`);
  return { median, rounds, machineLoad };
}

function describe(figures: Figures): string {
  const failures = figures.non2xx + figures.errors;
  const statuses = figures.otherStatuses ? ` ${JSON.stringify(figures.otherStatuses)}` : '';
  const cpu = figures.cpuMsPerRequest === undefined ? '' : `, ${figures.cpuMsPerRequest} ms CPU/request`;
  const drain =
    figures.effectsDrainSeconds === undefined
      ? ''
      : ` (effects carried out ${figures.effectsDrainSeconds} s after)`;
  return `${figures.requestsPerSecond} req/s, p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms${cpu}${drain}${failures ? `, ${failures} failed${statuses}` : ''}`;
}

function table(
  results: ScenarioResult[],
  embedded: Awaited<ReturnType<typeof runEmbedded>> | undefined,
  countCost: { p50Ms: number; p99Ms: number },
  serviceRss: number | undefined,
): string {
  const lines = [
    '| scenario | service req/s | p50 ms | p99 ms | baseline req/s | ratio | target |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const result of results) {
    const b = result.baseline;
    lines.push(
      `| ${result.id}. ${result.name} | ${result.service.requestsPerSecond} | ${result.service.p50Ms} | ${result.service.p99Ms} | ${b ? b.requestsPerSecond : '—'} | ${result.ratio ?? '—'} | ${result.target} |`,
    );
  }
  if (embedded) {
    lines.push(
      `| embedded: 1. page 1, PGlite, ${embedded.reps.toLocaleString('en')} reps | ${embedded.scenario1.requestsPerSecond} | ${embedded.scenario1.p50Ms} | ${embedded.scenario1.p99Ms} | — | — | — |`,
      `| embedded: 5. PUT, PGlite | ${embedded.scenario5.requestsPerSecond} | ${embedded.scenario5.p50Ms} | ${embedded.scenario5.p99Ms} | — | — | — |`,
    );
  }
  lines.push(
    '',
    `X-Total-Count of ${BIG_ORGANIZATION}: p50 ${countCost.p50Ms} ms, p99 ${countCost.p99Ms} ms (target ≤ 5 ms).`,
    `Peak RSS of the service: ${serviceRss ?? '?'} MB on PostgreSQL, ${embedded?.peakRssMb ?? '?'} MB embedded (target ≤ 200 MB).`,
  );
  return lines.join('\n');
}

await main();
