import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';

/**
 * The audit log's scenarios (docs/events.md, docs/performance.md): a page of an organization holding 1,000,000
 * events (10,000 with --quick) at random depths, and the PUT with its event recorded against the same PUT with the
 * event discarded by the database, measured in turn in the same run.
 */

const EVENTS_ORGANIZATION = 'bench_org_events';

interface Figures {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

interface Request {
  method: 'GET' | 'PUT';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** What the scenarios need of bench/run.ts: its measuring, its PUT scenario and its tokens. */
export interface EventBenchDeps<F extends Figures> {
  admin: pg.Client;
  quick: boolean;
  rounds: number;
  measureSeconds: number;
  log: (line: string) => void;
  /** Only these scenarios (7, 8, 9); all when absent. */
  only?: number[] | undefined;
  measure: (next: () => Request, before?: () => Promise<void>, seconds?: number) => Promise<F>;
  /** A token header of an Admin of the organization. */
  adminHeaders: (identityOrganizationId: string) => Promise<Record<string, string>>;
  /** The service's address, for the webhook scenario's own paced requests. */
  serviceUrl: string;
  /** Starts another replica of the service on the same database, for scenario 9's two-replica variant. */
  startReplica?: (() => Promise<{ url: string; stop: () => Promise<void> }>) | undefined;
  /** The PUT scenario of run.ts (a new rep each request) and its reset of the writes organization. */
  put: { next: () => Request; before?: (() => Promise<void>) | undefined };
}

export interface EventScenarioResult<F extends Figures> {
  id: number;
  name: string;
  target: string;
  service: F;
  baseline?: F;
  ratio?: number;
  rounds?: { service: F; baseline: F }[];
}

/** Fills the events organization up to `count` events (set-based, in batches), unless it holds them already. */
async function seedEvents(admin: pg.Client, count: number, log: (line: string) => void): Promise<string> {
  await admin.query(
    `insert into organization (id, name, identity_organization_id)
     values (substr(md5('o-events'), 1, 22), 'Bench Events', $1) on conflict do nothing`,
    [EVENTS_ORGANIZATION],
  );
  const { rows } = await admin.query<{ id: string }>(
    'select id from organization where identity_organization_id = $1',
    [EVENTS_ORGANIZATION],
  );
  const organizationId = rows[0]?.id as string;
  const existing = await admin.query<{ n: string }>(
    'select count(*) as n from event where organization_id = $1',
    [organizationId],
  );
  const have = Number(existing.rows[0]?.n ?? 0);
  if (have >= count) return organizationId;
  const started = Date.now();
  log(`  loading ${(count - have).toLocaleString('en')} events into ${EVENTS_ORGANIZATION}`);
  const actions = ['sales_rep.created', 'sales_rep.deactivated', 'sales_rep.activated', 'customer.updated'];
  for (let from = have + 1; from <= count; from += 100_000) {
    const to = Math.min(count, from + 99_999);
    // One event a second into the past, as a long history; targets and actors repeat, as real ones do.
    await admin.query(
      `insert into event (id, organization_id, occurred_at, action, actor_type, actor_id, targets, target_ids,
         request_id, changes)
       select 'bev' || g || '-' || $2, $1, now() - ($3::int - g) * interval '1 second',
         ($4::text[])[1 + g % 4], 'user', 'admin_' || (g % 20),
         jsonb_build_array(jsonb_build_object('type', 'organization_sales_rep', 'id', 'osr_' || (g % 5000))),
         array['osr_' || (g % 5000)], null, '{"active": {"from": true, "to": false}}'::jsonb
       from generate_series($5::int, $6::int) g`,
      [organizationId, Date.now().toString(36), count, actions, from, to],
    );
  }
  await admin.query('vacuum (analyze) event');
  log(`  loaded in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return organizationId;
}

/** Cursors at `count` depths spread over the organization's history, as the service encodes them. */
async function cursorsAtDepths(admin: pg.Client, organizationId: string, total: number, count: number) {
  const { rows } = await admin.query<{ position: string; seq: string }>(
    `select to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') as position, seq::text as seq
     from event where organization_id = $1 and seq % $2 = 0 limit $3`,
    [organizationId, Math.max(1, Math.floor(total / count)), count],
  );
  return rows.map((row) => Buffer.from(`${row.position}|${row.seq}`, 'utf8').toString('base64url'));
}

const pick = <T>(values: readonly T[]): T => values[Math.floor(Math.random() * values.length)] as T;

const HOOKS_ORGANIZATION = 'bench_org_hooks';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/**
 * How fast the replicas' workers drain a backlog with no load coming in: `changes` PUTs are made while a trigger
 * schedules their effects a day ahead (so no worker takes any), then all are made due at once. The rate is the
 * effects done over the time from the first to the last one finishing (the table's own `finished_at`), so neither
 * the PUTs nor the moment a worker notices the backlog counts.
 */
async function drainRate(
  admin: pg.Client,
  organizationId: string,
  changes: number,
  put: () => Promise<unknown>,
): Promise<{ effects: number; effectsPerSecond: number; commitsPerEffect: number }> {
  await admin.query(`create or replace function bench_hold_effect() returns trigger language plpgsql as $$
    begin new.next_attempt_at := now() + interval '1 day'; return new; end $$`);
  const first = await admin.query<{ id: string }>(`select coalesce(max(id), 0)::text as id from effect`);
  try {
    await admin.query(`create trigger bench_hold_effect before insert on effect for each row
      when (new.organization_id = '${organizationId}') execute function bench_hold_effect()`);
    let made = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (made < changes) {
          made += 1;
          await put();
        }
      }),
    );
  } finally {
    await admin.query('drop trigger if exists bench_hold_effect on effect');
  }
  const range = [first.rows[0]?.id ?? '0', organizationId];
  const heldOnly = 'id > $1::bigint and organization_id = $2';
  const held = `from effect where ${heldOnly}`;
  // Transactions committed in the database meanwhile, the service's and these polls': what the drain costs in
  // commits (each a WAL flush when it wrote), per effect. The statistics reach the view within a second or so.
  const commits = async () =>
    Number(
      (
        await admin.query<{ n: string }>(
          'select xact_commit::text as n from pg_stat_database where datname = current_database()',
        )
      ).rows[0]?.n,
    );
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const commitsBefore = await commits();
  await admin.query(
    `update effect set next_attempt_at = now() where ${heldOnly} and status = 'pending'`,
    range,
  );
  const until = performance.now() + 120_000;
  while (performance.now() < until) {
    const { rows } = await admin.query<{ n: number }>(
      `select count(*)::int as n ${held} and status = 'pending'`,
      range,
    );
    if (rows[0]?.n === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const { rows } = await admin.query<{ n: number; seconds: number }>(
    `select count(*)::int as n, extract(epoch from max(finished_at) - min(finished_at))::float8 as seconds
     ${held} and status = 'done'`,
    range,
  );
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const committed = (await commits()) - commitsBefore;
  const effects = rows[0]?.n ?? 0;
  return {
    effects,
    effectsPerSecond: Math.round(effects / (rows[0]?.seconds || Number.NaN)),
    commitsPerEffect: Math.round((committed / effects) * 100) / 100,
  };
}

/**
 * Webhook deliveries to a receiver on this machine: PUTs paced at `rate` a second for `seconds`, each answered
 * (so committed) before the receiver's clock is read at its delivery; then a burst as fast as 10 connections go,
 * for the deliveries a second that one webhook gets (its deliveries run one at a time, in order); then the rate at
 * which the workers drain a backlog. The PUTs go to the replicas in turn, as a balancer would send them.
 */
async function webhookScenario<F extends Figures>(deps: EventBenchDeps<F>, serviceUrls: string[]) {
  const arrivals = new Map<string, number>();
  const receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        data: { targets: { id: string }[] };
      };
      const target = event.data.targets[0]?.id;
      if (target && !arrivals.has(target)) arrivals.set(target, performance.now());
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { port } = receiver.address() as AddressInfo;
  try {
    // The queue as autovacuum keeps it: on a server without autovacuum (as on the bench machine) the done effects of
    // earlier runs stay in effect_due with stale statistics, and each claim read through all of them (16 ms a
    // window with 68,000), which measured the leftovers of the runs before rather than the worker.
    await deps.admin.query('vacuum (analyze) effect, webhook_delivery');
    await deps.admin.query(
      `insert into organization (id, name, identity_organization_id)
       values (substr(md5('o-hooks'), 1, 22), 'Bench Hooks', $1) on conflict do nothing`,
      [HOOKS_ORGANIZATION],
    );
    const headers = { ...(await deps.adminHeaders(HOOKS_ORGANIZATION)), 'content-type': 'application/json' };
    let turn = 0;
    const call = (method: string, path: string, body: object) => {
      turn = (turn + 1) % serviceUrls.length;
      return fetch(`${serviceUrls[turn]}${path}`, { method, headers, body: JSON.stringify(body) });
    };
    const subscribed = await call('POST', '/api/organizations/webhooks', {
      url: `http://127.0.0.1:${port}/hooks`,
      eventTypes: ['sales_rep.created'],
    });
    if (subscribed.status !== 201) throw new Error(`subscribing answered ${subscribed.status}`);
    const { id } = (await subscribed.json()) as { id: string };
    const run = Date.now().toString(36);
    let sequence = 0;
    const put = async (): Promise<{ target: string; committedAt: number } | undefined> => {
      sequence += 1;
      const response = await call('PUT', '/api/organizations/salesreps', {
        firstName: 'Hook',
        lastName: `Bench ${sequence}`,
        email: `hook-${run}-${sequence}@bench.example`,
        repNumber: `H-${run}-${sequence}`,
      });
      if (response.status !== 200) return undefined;
      const body = (await response.json()) as { organizationSalesRepId: string };
      return { target: body.organizationSalesRepId, committedAt: performance.now() };
    };
    const waitFor = async (targets: string[], timeoutMs: number) => {
      const until = performance.now() + timeoutMs;
      while (performance.now() < until && targets.some((target) => !arrivals.has(target))) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };

    // Each part starts on an empty queue: what an earlier part (or variant) left undone is not this one's work.
    const emptied = async () => {
      const until = performance.now() + 300_000;
      while (performance.now() < until) {
        const { rows } = await deps.admin.query<{ n: number }>(
          `select count(*)::int as n from effect where status = 'pending' and next_attempt_at <= now()`,
        );
        if (rows[0]?.n === 0) return;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      throw new Error('the effect queue did not empty in 5 minutes');
    };
    await emptied();
    const organization = await deps.admin.query<{ id: string }>(
      'select id from organization where identity_organization_id = $1',
      [HOOKS_ORGANIZATION],
    );
    const drain = await drainRate(
      deps.admin,
      organization.rows[0]?.id as string,
      deps.quick ? 200 : 500,
      put,
    );
    await emptied();

    const rate = 100;
    const seconds = deps.quick ? 5 : 20;
    const paced: Promise<{ target: string; committedAt: number } | undefined>[] = [];
    const started = performance.now();
    for (let n = 0; n < rate * seconds; n++) {
      const due = started + (n * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      paced.push(put());
    }
    const committed = (await Promise.all(paced)).filter((entry) => entry !== undefined);
    await waitFor(
      committed.map((entry) => entry.target),
      30_000,
    );
    const latencies = committed
      .map((entry) => (arrivals.get(entry.target) ?? Number.NaN) - entry.committedAt)
      .filter((ms) => !Number.isNaN(ms));

    await emptied();
    const burst = deps.quick ? 300 : 2000;
    const burstStarted = performance.now();
    const burstTargets: string[] = [];
    const burstEnd = sequence + burst;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (sequence < burstEnd) {
          const entry = await put();
          if (entry) burstTargets.push(entry.target);
        }
      }),
    );
    await waitFor(burstTargets, 60_000);
    const lastArrival = Math.max(...burstTargets.map((target) => arrivals.get(target) ?? 0));
    const delivered = burstTargets.filter((target) => arrivals.has(target)).length;
    await call('DELETE', `/api/organizations/webhooks/${id}`, {});
    return {
      committed: committed.length,
      delivered: latencies.length,
      p50Ms: Math.round(percentile(latencies, 50)),
      p99Ms: Math.round(percentile(latencies, 99)),
      burstEventsPerSecond: Math.round((delivered / (lastArrival - burstStarted)) * 1000),
      drainEffects: drain.effects,
      drainEffectsPerSecond: drain.effectsPerSecond,
      drainCommitsPerEffect: drain.commitsPerEffect,
    };
  } finally {
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  }
}

function webhookResult<F extends Figures>(
  hooks: Awaited<ReturnType<typeof webhookScenario>>,
  replicas: string,
): EventScenarioResult<F> {
  return {
    id: 9,
    name: `webhook deliveries, ${replicas}: commit to delivery at 100 changes/s (${hooks.delivered} of ${hooks.committed}); burst ${hooks.burstEventsPerSecond} events/s; drain ${hooks.drainEffectsPerSecond} effects/s (${hooks.drainEffects}, ${hooks.drainCommitsPerEffect} commits each)`,
    target: 'p99 ≤ 1000 ms',
    service: { requestsPerSecond: hooks.burstEventsPerSecond, p50Ms: hooks.p50Ms, p99Ms: hooks.p99Ms } as F,
  };
}

export async function runEventScenarios<F extends Figures>(
  deps: EventBenchDeps<F>,
): Promise<EventScenarioResult<F>[]> {
  // BENCH_EVENTS sets the history's size, e.g. 1,000,000 with --quick's short scenarios.
  const total = Number(process.env.BENCH_EVENTS) || (deps.quick ? 10_000 : 1_000_000);
  const organizationId = await seedEvents(deps.admin, total, deps.log);
  const headers = await deps.adminHeaders(EVENTS_ORGANIZATION);
  const cursors = await cursorsAtDepths(deps.admin, organizationId, total, 500);
  const results: EventScenarioResult<F>[] = [];

  const wanted = (id: number) => !deps.only || deps.only.includes(id);
  if (wanted(7)) {
    deps.log(`Scenario 7: a page of events, ${total.toLocaleString('en')} events, random depths and filters`);
    const page = await deps.measure(() => {
      const query = new URLSearchParams({ pageSize: '50' });
      if (Math.random() < 0.75) query.set('cursor', pick(cursors));
      if (Math.random() < 0.25) query.set('action', 'sales_rep.deactivated');
      return { method: 'GET', path: `/api/organizations/events?${query}`, headers };
    });
    deps.log(`  service  ${page.requestsPerSecond} req/s, p50 ${page.p50Ms} ms, p99 ${page.p99Ms} ms`);
    results.push({
      id: 7,
      name: `a page of events, ${total.toLocaleString('en')} in the organization, random depths`,
      target: 'p99 ≤ 20 ms',
      service: page,
    });
  }
  if (wanted(8)) {
    // "Without": a trigger makes the database discard the event rows (the statement is still sent), in turns with
    // the service as it runs, so both see the same machine.
    await deps.admin.query(`create or replace function bench_discard_event() returns trigger language plpgsql as $$
    begin return null; end $$`);
    const discard = (on: boolean) =>
      deps.admin.query(
        on
          ? 'create trigger bench_discard_event before insert on event for each row execute function bench_discard_event()'
          : 'drop trigger if exists bench_discard_event on event',
      );
    deps.log('Scenario 8: PUT a new rep, its event recorded vs discarded');
    const rounds: { service: F; baseline: F }[] = [];
    try {
      for (let round = 0; round < deps.rounds; round++) {
        await discard(false);
        const withEvents = await deps.measure(
          deps.put.next,
          deps.put.before,
          deps.measureSeconds / deps.rounds,
        );
        await discard(true);
        const without = await deps.measure(deps.put.next, deps.put.before, deps.measureSeconds / deps.rounds);
        rounds.push({ service: withEvents, baseline: without });
      }
    } finally {
      await discard(false);
    }
    const ratio = (round: { service: F; baseline: F }) =>
      round.service.requestsPerSecond / round.baseline.requestsPerSecond;
    const median = [...rounds].sort((a, b) => ratio(a) - ratio(b))[
      Math.floor(rounds.length / 2)
    ] as (typeof rounds)[0];
    deps.log(`  ratio per round: ${rounds.map((round) => ratio(round).toFixed(2)).join(', ')}`);
    results.push({
      id: 8,
      name: 'PUT a new rep with its event (baseline: the event discarded)',
      target: '≥ 0.9 × without',
      service: median.service,
      baseline: median.baseline,
      ratio: Math.round(ratio(median) * 100) / 100,
      rounds,
    });
  }
  if (!wanted(9)) return results;
  deps.log('Scenario 9: webhook deliveries to a local receiver, 100 changes/s, then a burst, then a drain');
  const logged = async (urls: string[]) => {
    const hooks = await webhookScenario(deps, urls);
    deps.log(`  ${JSON.stringify(hooks)}`);
    return hooks;
  };
  results.push(webhookResult(await logged([deps.serviceUrl]), 'one replica'));
  if (deps.startReplica) {
    deps.log('Scenario 9, two replicas sharing the work (PUTs to each in turn)');
    const replica = await deps.startReplica();
    try {
      results.push(webhookResult(await logged([deps.serviceUrl, replica.url]), 'two replicas'));
    } finally {
      await replica.stop();
    }
  }
  return results;
}
