import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openLocalIssuer } from '../src/auth/local-issuer.js';
import { loadConfig } from '../src/config.js';
import { migrateToLatest, openDatabase } from '../src/db/database.js';
import { createOrganization } from '../src/organizations/service.js';
import { hashPassword } from '../src/signin/passwords.js';
import { addClient } from '../src/signin/service.js';
import { Browser, loop, percentile } from './browser.js';

/*
 * `npm run bench -- --signin [--quick]`: what the embedded sign-in costs, on the embedded database and on
 * PostgreSQL (a fresh database beside the benchmark's, BENCH_DATABASE_URL). Two figures each:
 *  - a whole sign-in, authorization request → sign-in page → password → code → token, by CONCURRENT_FLOWS
 *    browsers at once, with the default scrypt cost (N = 2^17): each flow is 9 HTTP requests and one hash;
 *  - the token endpoint under load: refresh-token grants by TOKEN_CONNECTIONS clients, each rotating its own
 *    refresh token (each grant signs a new JWT access token and ID token and stores the new refresh token).
 * Reported, never judged.
 */

const REDIRECT_URI = 'http://127.0.0.1:1/callback';
const CLIENT_ID = 'bench-app';
const PASSWORD = 'bench passphrase long enough 1';
const CONCURRENT_FLOWS = 4;
const TOKEN_CONNECTIONS = 10;

interface Started {
  url: string;
  stop(): Promise<void>;
}
type StartService = (env: Record<string, string>) => Promise<Started>;

export interface SigninFigures {
  flowsPerSecond: number;
  flowP50Ms: number;
  flowP99Ms: number;
  flows: number;
  tokenRequestsPerSecond: number;
  tokenP50Ms: number;
  tokenP99Ms: number;
  tokenRequests: number;
  failures: number;
}

/** The address browser `i` signs in from (a documentation range: never a real client). */
const clientAddress = (i: number) => `198.51.100.${i + 1}`;

/** One sign-in, answering the tokens. */
async function signIn(base: string, email: string, clientAddress: string): Promise<{ refreshToken: string }> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const session = new Browser(base, clientAddress);
  const query = new URLSearchParams({
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope: 'openid',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: randomBytes(8).toString('hex'),
  });
  const page = await session.follow(`/oidc/auth?${query}`);
  const action = page.html.match(/<form method="post" action="([^"]+)"/)?.[1];
  const csrf = page.html.match(/name="csrf" value="([^"]+)"/)?.[1];
  if (!action || !csrf) throw new Error('no sign-in page');
  const done = await session.follow(action, { csrf, email, password: PASSWORD });
  const code = done.leftTo && new URL(done.leftTo).searchParams.get('code');
  if (!code) throw new Error(`no code: ${done.html.slice(0, 200)}`);
  const token = await fetch(`${base}/oidc/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      client_id: CLIENT_ID,
      code_verifier: verifier,
    }),
  });
  const body = (await token.json()) as { refresh_token?: string };
  if (!body.refresh_token) throw new Error(`no refresh token: ${JSON.stringify(body)}`);
  return { refreshToken: body.refresh_token };
}

/** The sign-in figures on the embedded database, then on a fresh PostgreSQL database next to the dataset's. */
export async function runSigninBench(
  startService: StartService,
  options: { quick: boolean; log: (line: string) => void; postgresUrl: string },
): Promise<{ embedded: SigninFigures; postgres: SigninFigures }> {
  const embedded = await runOn(startService, { ...options, databaseUrl: undefined });
  const url = new URL(options.postgresUrl);
  const name = `${url.pathname.slice(1)}_signin`;
  const admin = new pg.Client({ connectionString: options.postgresUrl.replace(/\/[^/]*$/, '/postgres') });
  await admin.connect();
  try {
    await admin.query(`drop database if exists "${name}"`);
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  url.pathname = `/${name}`;
  const postgres = await runOn(startService, { ...options, databaseUrl: url.toString() });
  return { embedded, postgres };
}

async function runOn(
  startService: StartService,
  options: { quick: boolean; log: (line: string) => void; databaseUrl: string | undefined },
): Promise<SigninFigures> {
  const seconds = options.quick ? 3 : 15;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'salesreps-bench-signin-'));
  const config = loadConfig({ DATA_DIR: work });
  // The data is made before the service starts: the embedded database admits one process at a time.
  const database = await openDatabase({ dataDir: work, databaseUrl: options.databaseUrl });
  const emails = Array.from(
    { length: Math.max(CONCURRENT_FLOWS, TOKEN_CONNECTIONS) },
    (_, i) => `bench${i}@example.com`,
  );
  try {
    await migrateToLatest(database.db);
    await openLocalIssuer(config.auth);
    const organization = await createOrganization(database.db, {
      name: 'Bench Sign-in',
      identityOrganizationId: 'org_bench_signin',
    });
    await addClient(database.db, { id: CLIENT_ID, redirectUris: [REDIRECT_URI] });
    const hash = await hashPassword(PASSWORD, config.signin.scryptLog2N);
    for (const [i, email] of emails.entries()) {
      await database.db
        .insertInto('idp_account')
        .values({ id: `bench_${i}`, email, first_name: 'B', last_name: 'B' })
        .execute();
      await database.db
        .insertInto('idp_membership')
        .values({
          account_id: `bench_${i}`,
          identity_organization_id: organization.identity_organization_id,
          roles: ['Admin'],
        })
        .execute();
      await database.db
        .insertInto('signin_credential')
        .values({ account_id: `bench_${i}`, password_hash: hash })
        .execute();
    }
  } finally {
    await database.close();
  }
  const service = await startService({
    DATA_DIR: work,
    TRUST_PROXY: '127.0.0.1',
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
  });
  try {
    // A sign-in each to warm up, and the refresh tokens the token endpoint's load starts from.
    const refreshTokens = await Promise.all(
      emails.map(async (email, i) => (await signIn(service.url, email, clientAddress(i))).refreshToken),
    );
    const flows = await loop(CONCURRENT_FLOWS, Date.now() + seconds * 1000, async (worker) => {
      await signIn(service.url, emails[worker] as string, clientAddress(worker));
    });
    const tokens = await loop(TOKEN_CONNECTIONS, Date.now() + seconds * 1000, async (worker) => {
      const response = await fetch(`${service.url}/oidc/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: refreshTokens[worker] as string,
          client_id: CLIENT_ID,
        }),
      });
      const body = (await response.json()) as { refresh_token?: string };
      if (!response.ok || !body.refresh_token) throw new Error(`token endpoint answered ${response.status}`);
      refreshTokens[worker] = body.refresh_token;
    });
    const figures: SigninFigures = {
      flowsPerSecond: Math.round((flows.durations.length / seconds) * 10) / 10,
      flowP50Ms: percentile(flows.durations, 0.5),
      flowP99Ms: percentile(flows.durations, 0.99),
      flows: flows.durations.length,
      tokenRequestsPerSecond: Math.round(tokens.durations.length / seconds),
      tokenP50Ms: percentile(tokens.durations, 0.5),
      tokenP99Ms: percentile(tokens.durations, 0.99),
      tokenRequests: tokens.durations.length,
      failures: flows.failures + tokens.failures,
    };
    options.log(
      `Sign-in, ${options.databaseUrl ? 'PostgreSQL' : 'embedded database'}, scrypt N = 2^${config.signin.scryptLog2N}: ${figures.flowsPerSecond} sign-ins/s by ${CONCURRENT_FLOWS} browsers (authorization → token, p50 ${figures.flowP50Ms} ms, p99 ${figures.flowP99Ms} ms); ` +
        `token endpoint (refresh grants, ${TOKEN_CONNECTIONS} clients): ${figures.tokenRequestsPerSecond} req/s, p50 ${figures.tokenP50Ms} ms, p99 ${figures.tokenP99Ms} ms; ${figures.failures} failed.`,
    );
    return figures;
  } finally {
    await service.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}
