import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { startMetricsServer } from '../../src/http/metrics.js';
import { databaseKinds } from '../support/databases.js';
import { REPS_URL } from '../support/fixtures.js';
import { type HardenedApp, type HardenedService, startHardenedService } from './support.js';

const ORIGIN = 'https://app.example.com';
const METRICS_TOKEN = 'metrics-token-0123456789';
const LIMIT = 5;
const hardenedEnv = {
  RATE_LIMIT_MAX: String(LIMIT),
  RATE_LIMIT_WINDOW_MS: '60000',
  CORS_ORIGINS: ORIGIN,
  METRICS_TOKEN,
  REQUEST_TIMEOUT_MS: '20000',
  HEADERS_TIMEOUT_MS: '1500',
  KEEP_ALIVE_TIMEOUT_MS: '61000',
};

/** Sends raw bytes to a listening server and collects everything it answers until it closes the socket. */
function rawExchange(port: number, send: (socket: net.Socket) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => send(socket));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      answer += chunk;
    });
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

function problemOf(raw: string): { status: number; contentType: string; body: Record<string, unknown> } {
  const [head = '', body = ''] = raw.split('\r\n\r\n');
  return {
    status: Number(head.split(' ')[1]),
    contentType: head.match(/content-type: ([^\r\n]+)/i)?.[1] ?? '',
    body: JSON.parse(body) as Record<string, unknown>,
  };
}

describe.each(databaseKinds)('HTTP hardening on %s', (kind) => {
  let service: HardenedService;
  let organization: Organization;
  let closedCors: HardenedApp;

  beforeAll(async () => {
    service = await startHardenedService(kind, hardenedEnv);
    organization = await service.createOrganization();
    closedCors = await service.replica({ RATE_LIMIT_MAX: '1000' });
  });
  afterAll(() => service.close());

  const list = async (app: HardenedApp, userId: string, remoteAddress = '127.0.0.1') =>
    app.app.inject({
      method: 'GET',
      url: REPS_URL,
      remoteAddress,
      headers: { authorization: `Bearer ${await service.token(organization, userId, ['Admin'])}` },
    });

  describe('rate limiting', () => {
    it('answers 429 problem+json with Retry-After once a user of an organization spends RATE_LIMIT_MAX', async () => {
      for (let i = 0; i < LIMIT; i++) expect((await list(service, 'limited-admin')).statusCode).toBe(200);
      const refused = await list(service, 'limited-admin');
      expect(refused.statusCode).toBe(429);
      expect(refused.headers['content-type']).toContain('application/problem+json');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(refused.json()).toMatchObject({
        status: 429,
        type: 'urn:salesreps:problem:rate-limited',
        title: 'Too Many Requests',
        requestId: refused.headers['x-request-id'],
      });
    });

    it('counts per user and organization: another user from the same address is not limited', async () => {
      for (let i = 0; i <= LIMIT; i++) await list(service, 'busy-admin');
      expect((await list(service, 'busy-admin')).statusCode).toBe(429);
      expect((await list(service, 'quiet-admin')).statusCode).toBe(200);
    });

    it('counts per address before authentication: failed tokens from one address are limited, not others', async () => {
      const withBadToken = (remoteAddress: string) =>
        service.app.inject({
          method: 'GET',
          url: REPS_URL,
          remoteAddress,
          headers: { authorization: 'Bearer not-a-token' },
        });
      for (let i = 0; i < LIMIT; i++) expect((await withBadToken('203.0.113.7')).statusCode).toBe(401);
      const refused = await withBadToken('203.0.113.7');
      expect(refused.statusCode).toBe(429);
      expect(refused.headers['content-type']).toContain('application/problem+json');
      expect((await withBadToken('198.51.100.20')).statusCode).toBe(401);
      // The address's count does not hold back a caller from it who authenticates.
      expect((await list(service, 'admin-behind-nat', '203.0.113.7')).statusCode).toBe(200);
    });

    it('behind TRUST_PROXY=1 counts the address the proxy saw, whatever the client wrote to the left of it', async () => {
      const behindProxy = await service.replica({ RATE_LIMIT_MAX: String(LIMIT), TRUST_PROXY: '1' });
      const spoofing = (attempt: number) =>
        behindProxy.app.inject({
          method: 'GET',
          url: REPS_URL,
          remoteAddress: '10.0.0.2',
          headers: {
            authorization: 'Bearer not-a-token',
            // The client's own header, then the address the proxy appended.
            'x-forwarded-for': `198.18.${attempt}.1, 203.0.113.99`,
          },
        });
      const statuses: number[] = [];
      for (let attempt = 0; attempt < LIMIT + 2; attempt++)
        statuses.push((await spoofing(attempt)).statusCode);
      expect(statuses).toEqual([...Array(LIMIT).fill(401), 429, 429]);
    });

    it('never limits the health and readiness routes that load balancers call', async () => {
      for (let i = 0; i < LIMIT * 3; i++) {
        const health = await service.app.inject({
          method: 'GET',
          url: '/healthz',
          remoteAddress: '192.0.2.50',
        });
        expect(health.statusCode).toBe(200);
      }
      expect(
        (await service.app.inject({ method: 'GET', url: '/readyz', remoteAddress: '192.0.2.50' })).statusCode,
      ).toBe(200);
    });

    it('without REDIS_URL counts per process: a second replica has a count of its own', async () => {
      const replica = await service.replica({ RATE_LIMIT_MAX: String(LIMIT) });
      for (let i = 0; i < LIMIT; i++) await list(service, 'per-process-admin');
      expect((await list(service, 'per-process-admin')).statusCode).toBe(429);
      expect((await list(replica, 'per-process-admin')).statusCode).toBe(200);
    });

    it('with REDIS_URL two replicas share one count', async () => {
      const redisEnv = { RATE_LIMIT_MAX: String(LIMIT), REDIS_URL: 'redis://127.0.0.1:6379' };
      const [first, second] = [await service.replica(redisEnv), await service.replica(redisEnv)];
      const statuses: number[] = [];
      for (let i = 0; i < LIMIT + 2; i++) {
        statuses.push((await list(i % 2 === 0 ? first : second, 'shared-admin')).statusCode);
      }
      expect(statuses).toEqual([...Array(LIMIT).fill(200), 429, 429]);
    });
  });

  describe('security headers, CORS and request ids', () => {
    it('sets helmet security headers on answers and on errors', async () => {
      for (const response of [
        await service.app.inject({ method: 'GET', url: '/healthz' }),
        await service.app.inject({ method: 'GET', url: REPS_URL, remoteAddress: '192.0.2.1' }),
      ]) {
        expect(response.headers['x-content-type-options']).toBe('nosniff');
        expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
        expect(response.headers['strict-transport-security']).toMatch(/max-age=\d+/);
        expect(response.headers['content-security-policy']).toContain("default-src 'self'");
        expect(response.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
        expect(response.headers['x-powered-by']).toBeUndefined();
      }
    });

    it('answers a preflight from a CORS_ORIGINS origin, and gives an unlisted origin no CORS header', async () => {
      const preflight = (origin: string) =>
        service.app.inject({
          method: 'OPTIONS',
          url: REPS_URL,
          headers: {
            origin,
            'access-control-request-method': 'PUT',
            'access-control-request-headers': 'authorization',
          },
        });
      const allowed = await preflight(ORIGIN);
      expect(allowed.statusCode).toBe(204);
      expect(allowed.headers['access-control-allow-origin']).toBe(ORIGIN);
      expect(allowed.headers['access-control-allow-methods']).toContain('PUT');
      expect(String(allowed.headers['access-control-allow-headers']).toLowerCase()).toContain(
        'authorization',
      );
      expect(allowed.headers['access-control-allow-credentials']).toBeUndefined();
      const unlisted = await preflight('https://evil.example.net');
      expect(unlisted.headers['access-control-allow-origin']).toBeUndefined();
      const simple = await list(service, 'cors-admin');
      expect(simple.headers['access-control-allow-origin']).toBeUndefined();
      const fromOrigin = await service.app.inject({
        method: 'GET',
        url: '/healthz',
        headers: { origin: ORIGIN },
      });
      expect(fromOrigin.headers['access-control-allow-origin']).toBe(ORIGIN);
      expect(String(fromOrigin.headers['access-control-expose-headers'])).toContain('X-Request-Id');
    });

    it('keeps CORS closed when CORS_ORIGINS is unset: no CORS header, and a preflight is a 405 problem', async () => {
      const preflight = await closedCors.app.inject({
        method: 'OPTIONS',
        url: REPS_URL,
        headers: { origin: ORIGIN, 'access-control-request-method': 'PUT' },
      });
      // No OPTIONS route exists without CORS: the path is known, the method is not (docs/api.md).
      expect(preflight.statusCode).toBe(405);
      expect(preflight.headers.allow).toBe('DELETE, GET, HEAD, PATCH, PUT');
      expect(preflight.headers['content-type']).toContain('application/problem+json');
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
      const get = await closedCors.app.inject({
        method: 'GET',
        url: '/healthz',
        headers: { origin: ORIGIN },
      });
      expect(get.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('echoes a well-formed X-Request-Id into the header and the problem body, and replaces a malformed one', async () => {
      const echoed = await service.app.inject({
        method: 'GET',
        url: REPS_URL,
        remoteAddress: '192.0.2.2',
        headers: { 'x-request-id': 'trace-4711.abc' },
      });
      expect(echoed.headers['x-request-id']).toBe('trace-4711.abc');
      expect(echoed.json().requestId).toBe('trace-4711.abc');
      for (const malformed of ['x'.repeat(129), 'has spaces in it', '']) {
        const replaced = await service.app.inject({
          method: 'GET',
          url: REPS_URL,
          remoteAddress: '192.0.2.3',
          headers: { 'x-request-id': malformed },
        });
        expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
        expect(replaced.json().requestId).toBe(replaced.headers['x-request-id']);
      }
    });
  });

  describe('size limits and time-outs', () => {
    it('refuses a body over BODY_LIMIT_BYTES with 413 problem+json and writes nothing', async () => {
      const token = await service.token(organization, 'big-body-admin', ['Admin']);
      const response = await service.app.inject({
        method: 'PUT',
        url: REPS_URL,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        payload: JSON.stringify({
          firstName: 'x'.repeat(70 * 1024),
          lastName: 'y',
          email: 'big@example.com',
          repNumber: 'B1',
        }),
      });
      expect(response.statusCode).toBe(413);
      expect(response.headers['content-type']).toContain('application/problem+json');
      const reps = await service.db
        .selectFrom('sales_rep')
        .select('id')
        .where('email', '=', 'big@example.com')
        .execute();
      expect(reps).toEqual([]);
    });

    it('refuses a path parameter over 200 characters with 414 problem+json, and a bad % escape with 400', async () => {
      const document = (await service.app.inject({ method: 'GET', url: '/openapi.json' })).json();
      const withParameter = Object.keys(document.paths).find((path) => path.includes('{'));
      expect(withParameter).toBeDefined();
      const tooLong = await service.app.inject({
        method: 'GET',
        url: String(withParameter).replace(/\{[^}]+\}/, 'p'.repeat(201)),
        headers: { 'x-request-id': 'long-param' },
      });
      expect(tooLong.statusCode).toBe(414);
      expect(tooLong.headers['content-type']).toContain('application/problem+json');
      expect(tooLong.headers['x-request-id']).toBe('long-param');
      expect(tooLong.json()).toMatchObject({ status: 414, title: 'URI Too Long', requestId: 'long-param' });
      const badEscape = await service.app.inject({
        method: 'GET',
        url: String(withParameter).replace(/\{[^}]+\}/, '%E0%A4%A'),
      });
      expect(badEscape.statusCode).toBe(400);
      expect(badEscape.headers['content-type']).toContain('application/problem+json');
    });

    it('sets request, header and keep-alive time-outs on the HTTP server from the configuration', () => {
      expect(service.app.server.requestTimeout).toBe(20_000);
      expect(service.app.server.headersTimeout).toBe(1500);
      expect(service.app.server.keepAliveTimeout).toBe(61_000);
    });

    describe('on a real socket', () => {
      let port: number;
      beforeAll(async () => {
        await service.app.listen({ host: '127.0.0.1', port: 0 });
        port = (service.app.server.address() as net.AddressInfo).port;
      });

      it('answers headers that never finish with 408 problem+json once HEADERS_TIMEOUT_MS passes', async () => {
        const started = Date.now();
        const answer = await rawExchange(port, (socket) =>
          socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'),
        );
        const elapsed = Date.now() - started;
        expect(elapsed).toBeGreaterThanOrEqual(1400);
        expect(elapsed).toBeLessThan(5000);
        const problem = problemOf(answer);
        expect(problem.status).toBe(408);
        expect(problem.contentType).toBe('application/problem+json');
        expect(problem.body).toMatchObject({ status: 408, type: 'urn:salesreps:problem:request-timeout' });
        expect(problem.body.requestId).toEqual(expect.any(String));
      });

      it('answers headers over 16 KiB with 431 problem+json', async () => {
        const answer = await rawExchange(port, (socket) =>
          socket.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(20_000)}\r\n\r\n`),
        );
        const problem = problemOf(answer);
        expect(problem.status).toBe(431);
        expect(problem.contentType).toBe('application/problem+json');
        expect(problem.body).toMatchObject({ status: 431, type: 'urn:salesreps:problem:headers-too-large' });
      });
    });
  });

  describe('logs', () => {
    it('writes one JSON line per request with its request id, and never the token, email or phone it carried', async () => {
      const token = await service.token(organization, 'logging-admin', ['Admin']);
      const response = await service.app.inject({
        method: 'PUT',
        url: REPS_URL,
        headers: { authorization: `Bearer ${token}`, 'x-request-id': 'log-check-1' },
        payload: {
          firstName: 'Lena',
          lastName: 'Logged',
          email: 'lena.logged@example.com',
          phoneNumber: '+1 (555) 867-5309',
          repNumber: 'LOG-1',
        },
      });
      expect(response.statusCode).toBe(200);
      const lines = service.log.lines.filter((line) => line.requestId === 'log-check-1');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({
        msg: 'request',
        method: 'PUT',
        route: REPS_URL,
        statusCode: 200,
        organizationId: organization.id,
        userId: 'logging-admin',
      });
      const text = service.log.raw.join('');
      expect(text).not.toContain(token);
      expect(text).not.toContain(token.split('.')[2]);
      expect(text).not.toContain('lena.logged@example.com');
      expect(text).not.toContain('867-5309');
    });

    it('scrubs emails, phone numbers and credentials from logged URLs', async () => {
      await service.app.inject({
        method: 'GET',
        url: `${REPS_URL}?email=sam%40example.com&contact=sam@example.com&phone=555%20123%204567&access_token=s3cr3t-value`,
        remoteAddress: '192.0.2.30',
        headers: { 'x-request-id': 'log-check-2' },
      });
      const [line] = service.log.lines.filter((entry) => entry.requestId === 'log-check-2');
      expect(line?.statusCode).toBe(401);
      expect(String(line?.url)).toBe(
        `${REPS_URL}?email=[email]&contact=[email]&phone=[phone]&access_token=[redacted]`,
      );
      const text = service.log.raw.join('');
      expect(text).not.toContain('sam@example.com');
      expect(text).not.toContain('sam%40example.com');
      expect(text).not.toContain('s3cr3t-value');
    });

    it('scrubs emails and phone numbers from logged errors, such as a database error quoting a row', () => {
      const error = new Error(
        'duplicate key value: Key (lower(email))=(dana@example.com), phone 0171 2345678',
      );
      service.app.log.error(
        { err: error, email: 'dana@example.com', authorization: 'Bearer abc.def.ghi' },
        'failed',
      );
      const text = service.log.raw.join('');
      expect(text).toContain('Key (lower(email))=([email]), phone [phone]');
      expect(text).not.toContain('dana@example.com');
      expect(text).not.toContain('abc.def.ghi');
    });
  });

  describe('metrics', () => {
    it('serves Prometheus text at /metrics to the METRICS_TOKEN bearer only', async () => {
      await list(service, 'metrics-admin');
      await service.app.inject({ method: 'GET', url: '/no-such-route', remoteAddress: '192.0.2.8' });
      const refused = await service.app.inject({
        method: 'GET',
        url: '/metrics',
        remoteAddress: '192.0.2.9',
      });
      expect(refused.statusCode).toBe(401);
      expect(refused.headers['content-type']).toContain('application/problem+json');
      const wrong = await service.app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: `Bearer ${METRICS_TOKEN.replace('0', '1')}` },
      });
      expect(wrong.statusCode).toBe(401);
      const scraped = await service.app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: `Bearer ${METRICS_TOKEN}` },
      });
      expect(scraped.statusCode).toBe(200);
      expect(scraped.headers['content-type']).toContain('text/plain');
      expect(scraped.body).toMatch(
        /salesreps_http_request_duration_seconds_bucket\{le="[^"]+",method="GET",route="\/api\/organizations\/salesreps",status_code="200"\} \d+/,
      );
      expect(scraped.body).toContain('route="unmatched",status_code="404"');
      expect(scraped.body).toContain('# TYPE salesreps_effects_pending gauge');
      expect(scraped.body).toContain('# TYPE salesreps_effects_failures_total counter');
      if (kind === 'postgres')
        expect(scraped.body).toMatch(/salesreps_db_pool_connections\{state="total"\} [1-9]/);
    });

    it('counts pending effects by kind and records effect failures reported by the workers', async () => {
      const token = await service.token(organization, 'effects-admin', ['Admin']);
      const created = await service.app.inject({
        method: 'PUT',
        url: REPS_URL,
        headers: { authorization: `Bearer ${token}` },
        payload: {
          firstName: 'Pat',
          lastName: 'Pending',
          email: 'pat.pending@example.com',
          repNumber: 'PEND-1',
        },
      });
      expect(created.statusCode).toBe(200);
      service.metrics.effectFailures.inc({ kind: 'email.welcome', final: 'false' });
      const text = await service.metrics.registry.metrics();
      expect(text).toMatch(/salesreps_effects_pending\{kind="email\.welcome"\} [1-9]/);
      expect(text).toContain('salesreps_effects_failures_total{kind="email.welcome",final="false"} 1');
    });

    it('adds the default process and Node.js metrics, and passes `promtool check metrics`', async () => {
      await list(service, 'promtool-admin');
      const text = await service.metrics.registry.metrics();
      for (const name of [
        'process_cpu_seconds_total',
        'process_resident_memory_bytes',
        'nodejs_eventloop_lag_seconds',
        'nodejs_heap_size_used_bytes',
        'nodejs_gc_duration_seconds',
      ]) {
        expect(text).toContain(`# TYPE ${name} `);
      }
      // The service's own names share one prefix; the default ones keep the names dashboards expect.
      const own = [...text.matchAll(/^# TYPE (\S+) /gm)]
        .map((match) => match[1] ?? '')
        .filter((name) => !/^(process|nodejs)_/.test(name));
      expect(own.length).toBeGreaterThan(0);
      expect(own.filter((name) => !name.startsWith('salesreps_'))).toEqual([]);
      const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      // CI installs promtool (.ci/run); elsewhere it is needed only for this check.
      if (promtool.error && !process.env.CI) return;
      expect(promtool.error).toBeUndefined();
      expect(`${promtool.stdout}${promtool.stderr}`.trim()).toBe('');
      expect(promtool.status).toBe(0);
    });

    it('serves the same registry on a port of its own (METRICS_PORT) and nothing else there', async () => {
      const server = await startMetricsServer(service.metrics, '127.0.0.1', 0);
      try {
        const scraped = await fetch(`http://127.0.0.1:${server.port}/metrics`);
        expect(scraped.status).toBe(200);
        expect(await scraped.text()).toContain('# TYPE salesreps_http_request_duration_seconds histogram');
        expect((await fetch(`http://127.0.0.1:${server.port}/api/organizations/salesreps`)).status).toBe(404);
      } finally {
        await server.close();
      }
    });
  });
});
