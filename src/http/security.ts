// The HTTP edge's protections: server limits, the Host check, security headers and rate limits.
import { randomUUID } from 'node:crypto';
import { IncomingMessage, type ServerOptions, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import cors from '@fastify/cors';
import rateLimit, { normalizeIP } from '@fastify/rate-limit';
import type {
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifyServerOptions,
} from 'fastify';
import helmet from 'helmet';
import type { Redis } from 'ioredis';
import type { HttpConfig } from '../config.js';
import { type ProblemCode, ProblemError, problemBody } from '../kernel/problem.js';
import { scimErrorBody } from '../scim/errors.js';
import { SCIM_BASE_PATH, SCIM_CONTENT_TYPE } from '../scim/schemas.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * false for health and readiness: a load balancer is never told 429. 'by-address' (GET /metrics on the public
     * port): every request counts per client address on a counter of the route's own, token or not, so token
     * guesses are limited while a scraper's few requests a minute never come near the limit.
     */
    rateLimited?: false | 'by-address';
    /** false: @fastify/cors leaves the route alone (the embedded OpenID provider answers CORS on its own). */
    cors?: false;
  }
}

/** Counts a request against its caller's limit; throws the 429 when the limit is spent. */
export type RateLimiter = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/** The caller's X-Request-Id when it is 1–128 printable characters without spaces, else a new UUID. */
export function requestIdFor(request: IncomingMessage): string {
  const header = request.headers['x-request-id'];
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
}

/** Options of the Fastify server that bound how long and how much one client can hold or send. */
export function serverLimits(config: HttpConfig): FastifyServerOptions & { http: ServerOptions } {
  const trustProxy = config.trustProxy;
  return {
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    http: {
      // A request without Host is refused by refuseRequestsWithoutHost, as problem+json (Node's is a bare 400).
      requireHostHeader: false,
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      // How often Node looks for connections past their time-outs (its default, 30 s, would let them overstay).
      connectionsCheckingInterval: 1000,
    },
    // A hop count becomes the "trust the nearest n proxies" function Fastify understands.
    trustProxy:
      typeof trustProxy === 'number' ? (_address: string, hop: number) => hop < trustProxy : trustProxy,
    clientErrorHandler: answerClientError,
    frameworkErrors: answerFrameworkError,
  };
}

/**
 * URLs the router refuses before any hook runs (a bad % escape, an over-long path parameter), as problem+json, or as
 * a SCIM error under the SCIM base path (src/scim/).
 */
function answerFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const [status, code, detail]: [number, ProblemCode, string] =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? [414, 'uri-too-long', 'A path parameter is longer than 200 characters.']
      : error.code === 'FST_ERR_BAD_URL'
        ? [400, 'bad-url', 'The URL is not valid (a malformed percent escape?).']
        : [400, 'bad-request', 'The request cannot be routed.'];
  if (request.url.startsWith(`${SCIM_BASE_PATH}/`)) {
    void reply
      .code(status)
      .header('x-request-id', request.id)
      .type(SCIM_CONTENT_TYPE)
      .send(scimErrorBody(status, undefined, detail));
    return;
  }
  void reply
    .code(status)
    .header('x-request-id', request.id)
    .type('application/problem+json')
    .send(problemBody(status, code, detail, request.id));
}

/**
 * Errors Node's HTTP parser meets before Fastify sees a request (headers too large, a time-out, garbage) are
 * answered as problem+json too.
 */
function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, code, detail]: [number, ProblemCode, string] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'headers-too-large', 'The request line and headers are too large.']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request-timeout', 'The request was not received in time.']
        : [400, 'bad-request', 'The request is not valid HTTP.'];
  const problem = problemBody(status, code, detail, randomUUID());
  const body = JSON.stringify(problem);
  socket.end(
    `HTTP/1.1 ${status} ${problem.title}\r\n` +
      'Connection: close\r\nContent-Type: application/problem+json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/**
 * HTTP/1.1 requires a Host header (RFC 9112, section 3.2). Node refuses a request without one with a bare 400 of
 * its own unless told not to (`requireHostHeader: false` above); this answers it as problem+json instead.
 */
export function refuseRequestsWithoutHost(app: FastifyInstance): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const { headers, httpVersionMajor, httpVersionMinor } = request.raw;
    if (headers.host === undefined && httpVersionMajor === 1 && httpVersionMinor >= 1) {
      done(new ProblemError(400, 'missing-host', 'An HTTP/1.1 request must carry a Host header.'));
      return;
    }
    done();
  });
}

/**
 * Helmet's headers, worked out once: with a fixed configuration they are the same on every response, and setting
 * them as Fastify reply headers costs a fraction of running helmet's dozen middlewares on every request.
 */
function securityHeaders(): Record<string, string> {
  const request = new IncomingMessage(new Socket());
  const response = new ServerResponse(request);
  helmet({
    // The embedded default serves /docs over plain http: upgrading its script requests to https would break it.
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
  })(request, response, () => {});
  return Object.fromEntries(
    Object.entries(response.getHeaders()).map(([name, value]) => [name, String(value)]),
  );
}

/** Whether an origin is one a relying party of the embedded sign-in redirects to (src/signin/client-origins.ts). */
export type ClientOriginCheck = (origin: string) => Promise<boolean>;

/**
 * Security headers on every response, and CORS only for the configured origins and, with the embedded sign-in, the
 * redirect origins of its registered clients (none of either: no CORS headers, and a preflight finds no route).
 */
export async function registerSecurityHeaders(
  app: FastifyInstance,
  config: HttpConfig,
  isClientOrigin?: ClientOriginCheck,
): Promise<void> {
  const headers = securityHeaders();
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
  if (config.corsOrigins.length === 0 && !isClientOrigin) return;
  // The preflight route that @fastify/cors adds is answered by its own hook before authentication.
  app.addHook('onRoute', (route) => {
    if (route.method === 'OPTIONS' && !route.config?.policy)
      route.config = { ...route.config, policy: 'public' };
  });
  await app.register(cors, {
    origin: allowedOrigins(config.corsOrigins, isClientOrigin),
    methods: ['GET', 'PUT', 'PATCH', 'POST', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'DPoP', 'X-Request-Id'],
    exposedHeaders: [
      'X-Request-Id',
      'X-Total-Count',
      'Link',
      'Retry-After',
      'X-RateLimit-Limit',
      'X-RateLimit-Remaining',
      'X-RateLimit-Reset',
      'WWW-Authenticate',
    ],
    // Bearer tokens, not cookies: credentialed requests are never needed.
    credentials: false,
    maxAge: 600,
    strictPreflight: false,
  });
}

/**
 * @fastify/cors's `origin`: the CORS_ORIGINS list, and an origin a registered client redirects to. An origin
 * that is neither gets no CORS header: with a list, its preflight is answered without one; without, it finds no
 * route, as when CORS is closed.
 */
function allowedOrigins(corsOrigins: string[], isClientOrigin: ClientOriginCheck | undefined) {
  if (corsOrigins.includes('*')) return '*';
  if (!isClientOrigin) return corsOrigins;
  const listed = new Set(corsOrigins);
  return (
    origin: string | undefined,
    answer: (error: Error | null, allowed: string | string[] | false) => void,
  ) => {
    if (origin === undefined || listed.has(origin)) {
      answer(null, origin ?? false);
      return;
    }
    isClientOrigin(origin).then(
      (allowed) => answer(null, allowed ? origin : corsOrigins.length > 0 ? corsOrigins : false),
      (error: Error) => answer(error, false),
    );
  };
}

/**
 * The rate limiter: per user and organization once a token is verified, per client address before that (and
 * for requests whose token failed). With a Redis URL all replicas share the counts; Redis trouble lets requests
 * through rather than failing them.
 */
export async function registerRateLimit(
  app: FastifyInstance,
  config: HttpConfig['rateLimit'],
): Promise<RateLimiter> {
  const redis = config.redisUrl ? await connectRedis(app, config.redisUrl) : undefined;
  await app.register(rateLimit, {
    global: false,
    max: config.max,
    timeWindow: config.windowMs,
    ...(redis ? { redis, nameSpace: 'salesreps:rate-limit:' } : {}),
    skipOnError: true,
  });
  const limit = app.rateLimit({
    keyGenerator: (request) =>
      request.routeOptions.config?.rateLimited === 'by-address'
        ? `route:${request.routeOptions.url}:${normalizeIP(request.ip)}`
        : request.auth
          ? `user:${request.auth.organization.id}:${request.auth.principal.userId}`
          : `address:${normalizeIP(request.ip)}`,
    errorResponseBuilder: (_request, context) =>
      new ProblemError(429, 'rate-limited', `Too many requests; retry in ${context.after}.`, undefined, {
        'retry-after': String(Math.max(1, Math.ceil(context.ttl / 1000))),
      }),
  });
  return async (request, reply) => {
    if (request.routeOptions.config?.rateLimited === false) return;
    await limit.call(app, request, reply);
  };
}

async function connectRedis(app: FastifyInstance, url: string): Promise<Redis> {
  // Loaded only when configured: a service without Redis does not carry the client in memory.
  const { Redis } = await import('ioredis');
  // Fail fast instead of queueing: a rate-limit check must never hold a request while Redis is away.
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
  });
  redis.on('error', (error) => app.log.warn({ err: error }, 'redis (rate limits) unavailable'));
  app.addHook('onClose', async () => {
    redis.disconnect();
  });
  await redis.connect().catch((error: unknown) => {
    app.log.warn({ err: error }, 'redis (rate limits) not reachable at start; counting resumes when it is');
  });
  return redis;
}
