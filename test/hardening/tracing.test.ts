import fs from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalIssuer } from '../../src/auth/local-issuer.js';
import { loadConfig } from '../../src/config.js';
import { eventually } from '../effects/support/wait.js';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../support/databases.js';
import { REPS_URL } from '../support/fixtures.js';
import {
  builtService,
  migratedDataDir,
  type RunningServer,
  runCommand,
  startServiceProcess,
  tempDir,
} from '../support/process.js';
import { TEST_WEBHOOK_SECRET } from '../support/receiver.js';

/** A span as an OTLP/HTTP JSON export carries it (ids in hex), with its attributes flattened. */
interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

interface OtlpAttribute {
  key: string;
  value: Record<string, unknown>;
}

interface OtlpExport {
  resourceSpans?: {
    scopeSpans?: { spans?: (Omit<ReceivedSpan, 'attributes'> & { attributes?: OtlpAttribute[] })[] }[];
  }[];
}

/** A POST to a webhook path, as the receiver got it. */
interface ReceivedPost {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CLIENT = 3;
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

/**
 * One real HTTP server standing for the OTLP receiver (`/v1/traces`, JSON) and for the webhook and data-sync
 * receivers (every other path): it records the spans exported and the POSTs delivered, and answers 200 / 204.
 */
async function startPeer() {
  const spans: ReceivedSpan[] = [];
  const posts: ReceivedPost[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (request.url === '/v1/traces') {
        const exported = JSON.parse(body) as OtlpExport;
        for (const resource of exported.resourceSpans ?? [])
          for (const scope of resource.scopeSpans ?? [])
            for (const span of scope.spans ?? []) {
              const attributes = Object.fromEntries(
                (span.attributes ?? []).map(({ key, value }) => [key, Object.values(value)[0]]),
              );
              spans.push({ ...span, parentSpanId: span.parentSpanId ?? '', attributes });
            }
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      posts.push({ path: request.url ?? '', headers: request.headers, body });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, spans, posts, close: () => new Promise((resolve) => server.close(resolve)) };
}

/**
 * A module loaded before the service's own (`--import`), writing to `file` the URL of every module of OpenTelemetry
 * the process resolves, statically or dynamically (Node's module hooks see both).
 */
function moduleRecorder(folder: string, file: string): string {
  const recorder = path.join(folder, 'record-otel-modules.mjs');
  fs.writeFileSync(
    recorder,
    [
      "import fs from 'node:fs';",
      "import { registerHooks } from 'node:module';",
      'registerHooks({',
      '  resolve(specifier, context, nextResolve) {',
      '    const resolved = nextResolve(specifier, context);',
      `    if (/@opentelemetry|@fastify\\/otel/.test(resolved.url)) fs.appendFileSync(${JSON.stringify(file)}, resolved.url + '\\n');`,
      '    return resolved;',
      '  },',
      '});',
    ].join('\n'),
  );
  return recorder;
}

/** The packages of the modules the recorder wrote down, each once. */
function packagesLoaded(file: string): string[] {
  const urls = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n') : [];
  const names = urls.map((url) => /node_modules\/(@[^/]+\/[^/]+)\//.exec(url)?.[1]);
  return [...new Set(names.filter((name) => name !== undefined))].sort();
}

const build = builtService();

describe.each(databaseKinds)('traces exported over OTLP on %s', (kind) => {
  let dataDir: string;
  let database: TestDatabase | undefined;
  let peer: Awaited<ReturnType<typeof startPeer>>;
  let env: Record<string, string>;
  let adminToken: string;
  const running: RunningServer[] = [];

  beforeAll(async () => {
    dataDir = kind === 'pglite' ? migratedDataDir('salesreps-tracing-') : tempDir('salesreps-tracing-');
    peer = await startPeer();
    if (kind === 'postgres') database = await openTestDatabase(kind);
    env = {
      DATA_DIR: dataDir,
      ...(database?.url ? { DATABASE_URL: database.url } : {}),
      SYNC: 'webhook',
      SYNC_WEBHOOK_URL: `${peer.url}/sync`,
      SYNC_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
      WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true',
      EFFECTS_POLL_MS: '50',
    };
    const identityOrganizationId = `org_tracing_${kind}`;
    const created = await runCommand(
      process.execPath,
      [build.cli, 'org', 'create', '--name', 'Tracing Org', '--identity-org', identityOrganizationId],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    const issuer = await openLocalIssuer(loadConfig(env).auth);
    adminToken = await issuer.sign(
      { userId: 'admin', organization: identityOrganizationId, roles: ['Admin'] },
      600,
    );
  }, 120_000);
  afterAll(async () => {
    for (const service of running) await service.stop('SIGKILL');
    await peer.close();
    await database?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const call = (service: RunningServer, method: string, url: string, body?: unknown, headers = {}) =>
    fetch(`${service.url}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('with OTEL_EXPORTER_OTLP_ENDPOINT: the request joins the caller trace with a statement span below it, its effect and delivery are spans, the webhook and the sync carry the trace, the log line its id', async () => {
    const loaded = path.join(dataDir, 'otel-modules-on.txt');
    const service = await startServiceProcess(build.cli, {
      ...env,
      NODE_OPTIONS: `--import ${moduleRecorder(dataDir, loaded)}`,
      OTEL_EXPORTER_OTLP_ENDPOINT: peer.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: `salesreps-test-${kind}`,
    });
    running.push(service);
    const subscribed = await call(service, 'POST', '/api/organizations/webhooks', {
      url: `${peer.url}/hooks`,
      eventTypes: ['sales_rep.created'],
    });
    expect(subscribed.status).toBe(201);

    const listed = await call(service, 'GET', REPS_URL, undefined, { traceparent: TRACEPARENT });
    expect(listed.status).toBe(200);
    const requestId = listed.headers.get('x-request-id');
    const added = await call(service, 'PUT', REPS_URL, {
      firstName: 'Tracy',
      lastName: 'Trace',
      email: `tracy.${kind}@example.com`,
      repNumber: `TRACE-${kind}`,
    });
    expect(added.status).toBe(200);
    await eventually(() => {
      expect(peer.posts.filter((post) => post.path === '/hooks')).toHaveLength(1);
      expect(peer.posts.filter((post) => post.path === '/sync')).toHaveLength(1);
    }, 20_000);
    // SIGTERM: the spans still buffered are exported before the process ends.
    expect(await service.stop('SIGTERM')).toBe(0);

    // The GET: a server span in the caller's trace, its parent the caller's span, a statement span below it.
    const inCallerTrace = peer.spans.filter((span) => span.traceId === TRACE_ID);
    const server = inCallerTrace.find((span) => span.kind === SPAN_KIND_SERVER);
    expect(server).toMatchObject({
      name: `GET ${REPS_URL}`,
      parentSpanId: '00f067aa0ba902b7',
      attributes: { 'http.request.method': 'GET', 'http.route': REPS_URL, 'http.response.status_code': 200 },
    });
    expect(server?.attributes['salesreps.request.id']).toBe(requestId);
    const byId = new Map(inCallerTrace.map((span) => [span.spanId, span]));
    const below = (span: ReceivedSpan, ancestor: ReceivedSpan): boolean => {
      const parent = byId.get(span.parentSpanId);
      return parent !== undefined && (parent === ancestor || below(parent, ancestor));
    };
    const statement = inCallerTrace.find(
      (span) => span.attributes['db.system.name'] === 'postgresql' && /^pg\.query:SELECT/.test(span.name),
    );
    expect(statement?.kind).toBe(SPAN_KIND_CLIENT);
    expect(String(statement?.attributes['db.query.text'])).toMatch(/organization_sales_rep/);
    expect(server && statement && below(statement, server)).toBe(true);

    // The log line of that request carries its trace id.
    const line = service.logs.find((entry) => entry.msg === 'request' && entry.requestId === requestId);
    expect(line?.traceId).toBe(TRACE_ID);

    // The rep's effects: a span each, below the claim that took them; each delivery a client span whose context
    // the receiver got in `traceparent`.
    for (const [kindOfEffect, receiverPath] of [
      ['webhook.deliver', '/hooks'],
      ['sync.grant', '/sync'],
    ] as const) {
      const effect = peer.spans.find((span) => span.attributes['salesreps.effect.kind'] === kindOfEffect);
      expect(effect, kindOfEffect).toBeDefined();
      const claim = peer.spans.find((span) => span.spanId === effect?.parentSpanId);
      expect(claim?.name).toBe('effects claim');
      const delivery = peer.spans.find(
        (span) =>
          span.parentSpanId === effect?.spanId && span.kind === SPAN_KIND_CLIENT && span.name === 'POST',
      );
      expect(delivery?.attributes['http.response.status_code']).toBe(204);
      const post = peer.posts.find((received) => received.path === receiverPath);
      expect(post?.headers.traceparent).toBe(`00-${effect?.traceId}-${delivery?.spanId}-01`);
    }
    // The module recorder the next test relies on sees the SDK and the instrumentations when they are loaded.
    expect(packagesLoaded(loaded)).toEqual(
      expect.arrayContaining([
        '@fastify/otel',
        '@opentelemetry/sdk-trace',
        '@opentelemetry/instrumentation-pg',
      ]),
    );
  });

  it('without OTEL_EXPORTER_OTLP_ENDPOINT: no span is exported, no module of OpenTelemetry is loaded, the log line has no trace id', async () => {
    const loaded = path.join(dataDir, 'otel-modules-off.txt');
    const service = await startServiceProcess(build.cli, {
      ...env,
      NODE_OPTIONS: `--import ${moduleRecorder(dataDir, loaded)}`,
    });
    running.push(service);
    const spansBefore = peer.spans.length;
    const postsBefore = peer.posts.length;
    const listed = await call(service, 'GET', REPS_URL, undefined, { traceparent: TRACEPARENT });
    expect(listed.status).toBe(200);
    const added = await call(service, 'PUT', REPS_URL, {
      firstName: 'Una',
      lastName: 'Untraced',
      email: `una.${kind}@example.com`,
      repNumber: `UNTRACED-${kind}`,
    });
    expect(added.status).toBe(200);
    await eventually(() => expect(peer.posts.length).toBe(postsBefore + 2), 20_000);
    expect(await service.stop('SIGTERM')).toBe(0);

    expect(peer.spans.length).toBe(spansBefore);
    expect(peer.posts.slice(postsBefore).map((post) => post.headers.traceparent)).toEqual([
      undefined,
      undefined,
    ]);
    const requestId = listed.headers.get('x-request-id');
    const line = service.logs.find((entry) => entry.msg === 'request' && entry.requestId === requestId);
    expect(line).toBeDefined();
    expect(line).not.toHaveProperty('traceId');
    // OpenTelemetry's API alone, which prom-client loads for its exemplars whether traces are on or not.
    expect(packagesLoaded(loaded).filter((name) => name !== '@opentelemetry/api')).toEqual([]);
  }, 120_000);
});
