import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Browser, loop, percentile } from './browser.js';

/*
 * `npm run bench -- --signin-attack [--before DIR] [--quick]`: what a password-guessing flood does to everyone
 * else. The service of each checkout (this one, and with --before another built checkout, e.g. a worktree of an
 * older commit) starts on a fresh embedded database with its demo organization; the demo admin sets a password
 * through its invitation link, all through the service's own pages. Then, for SECONDS each:
 *  - quiet: the API read by API_CLIENTS clients in a loop, and the admin signing in over and over;
 *  - attack: the same, while ATTACKERS clients send wrong passwords for unknown emails in a loop, each attempt
 *    from a new address (a botnet: no per-address or per-email limit holds them back, every attempt costs one
 *    scrypt of 128 MiB). A client in a loop sends its next guess as soon as the last is answered, so a service
 *    that answers "busy" at once receives more guesses than one that keeps them waiting;
 *  - steady attack: the same guesses at a fixed ATTACK_RATE per second whatever the answers, so that both
 *    checkouts carry the same offered load.
 * Reported: the API's p50/p99, the legitimate sign-in's p50/p99 (authorization request to code) and how many of
 * them were refused, and what the attackers got. The checkouts take turns, round after round, so that both see
 * the same machine. Reported, never judged.
 */

const ATTACKERS = 20;
const ATTACK_RATE = 4;
const API_CLIENTS = 2;
const REDIRECT_URI = 'http://127.0.0.1:1/callback';
const CLIENT_ID = 'bench-attack';
const ADMIN_PASSWORD = 'bench passphrase long enough 1';
const ADMIN_ADDRESS = '203.0.113.7';

interface StartedService {
  url: string;
  stop(): Promise<void>;
}
/** Starts `serve` of the checkout in `dir` with `env` added. */
export type StartCheckout = (dir: string, env: Record<string, string>) => Promise<StartedService>;

interface PhaseFigures {
  apiP50Ms: number;
  apiP99Ms: number;
  apiRequests: number;
  signInP50Ms: number;
  signInP99Ms: number;
  signIns: number;
  signInsRefused: number;
  attempts: number;
  attemptStatuses: Record<string, number>;
}

export interface AttackFigures {
  checkout: string;
  round: number;
  quiet: PhaseFigures;
  attack: PhaseFigures;
  steadyAttack: PhaseFigures;
}

function formOf(html: string): { action: string; csrf: string } | undefined {
  const action = html.match(/<form method="post" action="([^"]+)"/)?.[1];
  const csrf = html.match(/name="csrf" value="([^"]+)"/)?.[1];
  return action && csrf ? { action: action.replace(/&amp;/g, '&'), csrf } : undefined;
}

/** The sign-in page of a new authorization request. */
async function signInPage(browser: Browser) {
  const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url');
  const query = new URLSearchParams({
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope: 'openid',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: randomBytes(8).toString('hex'),
  });
  const page = await browser.follow(`/oidc/auth?${query}`);
  const form = formOf(page.html);
  if (!form) throw new Error(`no sign-in page (${page.status})`);
  return form;
}

function runCli(dir: string, args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(dir, 'dist', 'cli.js'), ...args], {
      cwd: dir,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`salesreps ${args.join(' ')}: ${code}\n${stderr}`)),
    );
  });
}

/** One wrong guess for an unknown email, from a new address; answers its status. */
async function guess(base: string): Promise<number> {
  const browser = new Browser(base, `198.18.${randomBytes(1)[0]}.${randomBytes(1)[0]}`);
  const form = await signInPage(browser);
  const response = await browser.request(form.action, {
    csrf: form.csrf,
    email: `guess-${randomBytes(6).toString('hex')}@demo.example`,
    password: randomBytes(12).toString('base64url'),
  });
  await response.arrayBuffer();
  return response.status;
}

/** The attack: `looping` clients in a loop, or guesses started at `ratePerSecond` whatever the answers. */
type Attack = { looping: number } | { ratePerSecond: number };

/** A phase; `device` holds the admin browser's device cookie from one sign-in to the next, as a browser does. */
async function phase(
  base: string,
  token: string,
  device: Map<string, string>,
  seconds: number,
  attack: Attack,
): Promise<PhaseFigures> {
  const end = Date.now() + seconds * 1000;
  const attemptStatuses: Record<string, number> = {};
  let attempts = 0;
  let signInsRefused = 0;
  const count = (status: number | string) => {
    attempts += 1;
    attemptStatuses[status] = (attemptStatuses[status] ?? 0) + 1;
  };
  const attackers =
    'looping' in attack
      ? loop(attack.looping, end, async () => count(await guess(base)))
      : (async () => {
          const started: Promise<void>[] = [];
          for (let next = Date.now(); next < end; next += 1000 / attack.ratePerSecond) {
            await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())));
            started.push(guess(base).then(count, () => count('failed')));
          }
          await Promise.all(started);
        })();
  const [api, signIns] = await Promise.all([
    loop(API_CLIENTS, end, async () => {
      const response = await fetch(`${base}/api/organizations/salesreps`, {
        headers: { authorization: `Bearer ${token}` },
      });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`API answered ${response.status}`);
    }),
    loop(1, end, async () => {
      const browser = new Browser(base, ADMIN_ADDRESS, device);
      const form = await signInPage(browser);
      const done = await browser.follow(form.action, {
        csrf: form.csrf,
        email: 'admin@demo.example',
        password: ADMIN_PASSWORD,
      });
      if (!done.leftTo?.includes('code=')) {
        signInsRefused += 1;
        throw new Error(`sign-in answered ${done.status}`);
      }
      for (const [name, value] of browser.cookies) if (name.includes('device')) device.set(name, value);
    }),
    attackers,
  ]);
  return {
    apiP50Ms: percentile(api.durations, 0.5),
    apiP99Ms: percentile(api.durations, 0.99),
    apiRequests: api.durations.length,
    signInP50Ms: percentile(signIns.durations, 0.5),
    signInP99Ms: percentile(signIns.durations, 0.99),
    signIns: signIns.durations.length,
    signInsRefused,
    attempts,
    attemptStatuses,
  };
}

/** One checkout's quiet and attacked figures, on a data directory of its own. */
async function measure(
  startCheckout: StartCheckout,
  dir: string,
  seconds: number,
): Promise<{ quiet: PhaseFigures; attack: PhaseFigures; steadyAttack: PhaseFigures }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'salesreps-bench-attack-'));
  try {
    const env = { DATA_DIR: dataDir };
    // The client is registered before the service starts: the embedded database admits one process at a time.
    await runCli(dir, ['client', 'add', '--id', CLIENT_ID, '--redirect-uri', REDIRECT_URI], env);
    const service = await startCheckout(dir, {
      ...env,
      DEMO: 'true',
      TRUST_PROXY: '127.0.0.1',
    });
    try {
      const demo = fs.readFileSync(path.join(dataDir, 'demo.txt'), 'utf8');
      const token = demo.match(/eyJ[\w-]+\.[\w-]+\.[\w-]+/)?.[0];
      const link = demo.match(/https?:\/\/\S+\/signin\/link\/\S+/)?.[0];
      if (!token || !link) throw new Error(`demo.txt has no token or link:\n${demo}`);
      const admin = new Browser(service.url, ADMIN_ADDRESS);
      const setPage = formOf((await admin.follow(link)).html);
      if (!setPage) throw new Error('the invitation link shows no form');
      await admin.follow(setPage.action, { csrf: setPage.csrf, password: ADMIN_PASSWORD });
      const device = new Map<string, string>();
      await phase(service.url, token, device, 2, { looping: 0 }); // warm-up
      const quiet = await phase(service.url, token, device, seconds, { looping: 0 });
      if (quiet.signIns === 0) throw new Error('the admin could not sign in even without an attack');
      const attack = await phase(service.url, token, device, seconds, { looping: ATTACKERS });
      const steadyAttack = await phase(service.url, token, device, seconds, { ratePerSecond: ATTACK_RATE });
      return { quiet, attack, steadyAttack };
    } finally {
      await service.stop();
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const describePhase = (f: PhaseFigures) =>
  `API p50 ${f.apiP50Ms} ms, p99 ${f.apiP99Ms} ms (${f.apiRequests}); sign-in p50 ${f.signInP50Ms} ms, p99 ${f.signInP99Ms} ms (${f.signIns} signed in, ${f.signInsRefused} refused)` +
  (f.attempts ? `; ${f.attempts} guesses answered ${JSON.stringify(f.attemptStatuses)}` : '');

export async function runSigninAttackBench(
  startCheckout: StartCheckout,
  options: {
    checkouts: { label: string; dir: string }[];
    quick: boolean;
    log: (line: string) => void;
  },
): Promise<AttackFigures[]> {
  const seconds = options.quick ? 5 : 20;
  const rounds = options.quick ? 1 : 3;
  const figures: AttackFigures[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const { label, dir } of options.checkouts) {
      const load = os.loadavg()[0]?.toFixed(1);
      const { quiet, attack, steadyAttack } = await measure(startCheckout, dir, seconds);
      options.log(`round ${round}, ${label} (load ${load}, ${seconds} s each):`);
      options.log(`  quiet: ${describePhase(quiet)}`);
      options.log(`  ${ATTACKERS} attackers in a loop: ${describePhase(attack)}`);
      options.log(`  ${ATTACK_RATE} guesses/s: ${describePhase(steadyAttack)}`);
      figures.push({ checkout: label, round, quiet, attack, steadyAttack });
    }
  }
  return figures;
}
