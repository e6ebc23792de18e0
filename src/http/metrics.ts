// The service's Prometheus metrics, the request measures and the /metrics route or server.
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Executor, PoolUse } from '../db/database.js';
import { countPendingEffectsByKind } from '../effects/queries.js';
import { unauthorized } from '../kernel/problem.js';

/** The prefix of the service's own metric names; the default process_ and nodejs_ metrics keep their names. */
const METRIC_PREFIX = 'salesreps_';

/**
 * The service's Prometheus metrics, one registry per service (never prom-client's global one, so several apps in
 * one process — tests — do not collide). The effect workers report through `effectFailures`.
 */
export interface ServiceMetrics {
  registry: Registry;
  requestDuration: Histogram<'method' | 'route' | 'status_code'>;
  /** Failed attempts of effects by kind; `final` is "true" when the effect was given up (dead). */
  effectFailures: Counter<'kind' | 'final'>;
}

export interface MetricsSources {
  db: Executor;
  poolUse: () => PoolUse | undefined;
}

export function createMetrics(sources: MetricsSources): ServiceMetrics {
  const registry = new Registry();
  // CPU, memory, event-loop lag, GC and handles, under the names stock dashboards expect.
  collectDefaultMetrics({ register: registry });
  // Gauges named like counters, which `promtool check metrics` refuses; the same counts by type remain
  // (nodejs_active_handles{type}, ...), and sum() gives the totals.
  for (const name of [
    'nodejs_active_handles_total',
    'nodejs_active_requests_total',
    'nodejs_active_resources_total',
  ]) {
    registry.removeSingleMetric(name);
  }
  const requestDuration = new Histogram({
    name: `${METRIC_PREFIX}http_request_duration_seconds`,
    help: 'Time from request to response, by route template and status.',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  new Gauge({
    name: `${METRIC_PREFIX}db_pool_connections`,
    help: 'PostgreSQL pool connections by state (total, idle) and callers waiting for one.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const use = sources.poolUse();
      if (!use) return;
      this.set({ state: 'total' }, use.total);
      this.set({ state: 'idle' }, use.idle);
      this.set({ state: 'waiting' }, use.waiting);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}effects_pending`,
    help: 'Effects recorded and not yet carried out, by kind.',
    labelNames: ['kind'],
    registers: [registry],
    async collect() {
      this.reset();
      // A database that does not answer leaves the gauge empty; the scrape itself must still succeed.
      const rows = await countPendingEffectsByKind(sources.db).catch(() => []);
      for (const row of rows) this.set({ kind: row.kind }, Number(row.count));
    },
  });
  const effectFailures = new Counter({
    name: `${METRIC_PREFIX}effects_failures_total`,
    help: 'Failed effect attempts by kind; final="true" when the effect was given up.',
    labelNames: ['kind', 'final'],
    registers: [registry],
  });
  return { registry, requestDuration, effectFailures };
}

/** Times every response by its route template (unmatched URLs share one label, so labels stay few). */
export function measureRequests(app: FastifyInstance, metrics: ServiceMetrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    metrics.requestDuration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
    done();
  });
}

/**
 * GET /metrics on the public port, for a caller that presents `Authorization: Bearer <METRICS_TOKEN>`; limited
 * per client address, so the token cannot be guessed at speed.
 */
export function metricsRoute(app: FastifyInstance, metrics: ServiceMetrics, token: string): void {
  const expected = Buffer.from(`Bearer ${token}`);
  app.get(
    '/metrics',
    { config: { policy: 'public', rateLimited: 'by-address' }, schema: { hide: true } },
    async (request, reply) => {
      const presented = Buffer.from(request.headers.authorization ?? '');
      if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
        throw unauthorized(
          'GET /metrics requires the metrics token (Authorization: Bearer <METRICS_TOKEN>).',
        );
      }
      return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    },
  );
}

/** GET /metrics on a port of its own (METRICS_PORT), kept off the public listener. */
export async function startMetricsServer(
  metrics: ServiceMetrics,
  host: string,
  port: number,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: try GET /metrics\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => response.writeHead(500, { 'content-type': 'text/plain' }).end('Metrics could not be collected\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
