import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
  LogController,
} from 'fastify';
import { authorize } from '../auth/policies.js';
import type { TokenVerifier } from '../auth/verify.js';
import type { HttpConfig } from '../config.js';
import { customerRoutes } from '../customers/routes.js';
import type { Db } from '../db/database.js';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import { effectRoutes } from '../effects/routes.js';
import { eventRoutes } from '../events/routes.js';
import { type IdentityDirectory, IdentityProviderUnavailableError } from '../identity/port.js';
import {
  PROBLEM_CONTENT_TYPE,
  Problem,
  ProblemError,
  problemBody,
  truncate,
  unauthorized,
} from '../kernel/problem.js';
import { jsonResponse, problemResponses } from '../kernel/route-schema.js';
import { compileValidator, schemaProblem } from '../kernel/validation.js';
import { salesRepRoutes } from '../salesreps/routes.js';
import { webhookRoutes } from '../webhooks/routes.js';
import { type ConsoleSignIn, consoleRoutes } from './console.js';
import { refuseEncodedBodies } from './content-coding.js';
import { logEachRequest } from './logging.js';
import { methodsByPath } from './method-not-allowed.js';
import { createMetrics, measureRequests, metricsRoute, type ServiceMetrics } from './metrics.js';
import { registerOpenApi } from './openapi.js';
import {
  refuseRequestsWithoutHost,
  registerRateLimit,
  registerSecurityHeaders,
  requestIdFor,
  serverLimits,
} from './security.js';

export interface AppDependencies {
  db: Db;
  verifyToken: TokenVerifier;
  identity: IdentityDirectory;
  /** The local issuer's public keys, served at /.well-known/jwks.json; absent when an external JWKS is used. */
  localJwks: { keys: object[] } | undefined;
  bodyLimitBytes: number;
  logger: FastifyServerOptions['logger'];
  /** Rate limits, CORS and time-outs. */
  http: HttpConfig;
  /** Where request durations are recorded; a registry of the app's own when absent. */
  metrics?: ServiceMetrics;
  /** Serves GET /metrics on this app's port to callers presenting it as a bearer token. */
  metricsToken?: string | undefined;
  /** Routes of units that only some configurations serve (the embedded sign-in, src/signin/). */
  extraRoutes?: FastifyPluginAsync[] | undefined;
  /** Called with the app as soon as it exists, before any hook or route is added (tests watch its routes). */
  onApp?: ((app: FastifyInstance) => void) | undefined;
  /** Where the web console signs in; absent: the console says it is not configured (docs/console.md). */
  console?: ConsoleSignIn | undefined;
  /** Which webhook URLs are accepted; private networks refused when absent. */
  webhooks?: { allowPrivateNetworks: boolean };
  /**
   * Called once each request that may have changed something (any method but GET, HEAD and OPTIONS) is answered:
   * its effects are committed by then, and the effect worker claims them at once rather than at its next poll.
   */
  afterChange?: (() => void) | undefined;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const OperationalStatus = Type.Object({ status: Type.String({ enum: ['ok', 'ready'] }) });

const jwkText = (description: string) =>
  Type.String({ maxLength: 200, pattern: '^[A-Za-z0-9_-]+$', description });
const LocalJwks = Type.Object({
  keys: Type.Array(
    Type.Object(
      {
        kty: jwkText('Key type: EC'),
        crv: jwkText('Curve: P-256'),
        x: jwkText('X coordinate, base64url'),
        y: jwkText('Y coordinate, base64url'),
        kid: jwkText('Key id'),
        alg: jwkText('Algorithm: ES256'),
        use: jwkText('Use: sig'),
      },
      { description: 'A public JWK (RFC 7517)' },
    ),
    { maxItems: 10 },
  ),
});

export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const { http } = deps;
  const metrics = deps.metrics ?? createMetrics({ db: deps.db, poolUse: () => undefined });
  const app = Fastify({
    logger: deps.logger,
    bodyLimit: deps.bodyLimitBytes,
    requestIdHeader: false,
    genReqId: requestIdFor,
    // One line per request, written by logEachRequest.
    logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: true }),
    routerOptions: { maxParamLength: 200 },
    ...serverLimits(http),
  }).withTypeProvider<TypeBoxTypeProvider>();
  deps.onApp?.(app);

  app.setValidatorCompiler(({ schema, httpPart }) => compileValidator(schema, httpPart ?? 'body'));
  app.addSchema(Problem);
  app.decorateRequest('auth', undefined);

  // Only JSON bodies are read: a JSON text sent as text/plain is 415, as any other media type.
  app.removeContentTypeParser('text/plain');
  await registerOpenApi(app);
  const allowedMethods = methodsByPath(app);

  logEachRequest(app);
  measureRequests(app, metrics);
  await registerSecurityHeaders(app, http);
  refuseRequestsWithoutHost(app);
  const limitRate = await registerRateLimit(app, http.rateLimit);

  app.addHook('preParsing', refuseEncodedBodies);
  const afterChange = deps.afterChange;
  if (afterChange) {
    app.addHook('onResponse', async (request) => {
      if (!SAFE_METHODS.has(request.method)) afterChange();
    });
  }
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    try {
      await authenticate(request);
    } finally {
      // Counted once authentication is settled: per user and organization, or per address when it failed.
      await limitRate(request, reply);
    }
  });

  async function authenticate(request: FastifyRequest): Promise<void> {
    if (request.is404) return;
    const policy = request.routeOptions.config.policy;
    if (policy === 'public') return;
    if (!policy) throw new Error(`Route ${request.routeOptions.url} declares no policy`);
    const header = request.headers.authorization;
    const token = header?.match(/^Bearer ([^\s]+)$/i)?.[1];
    if (!token) throw unauthorized('A bearer token is required (Authorization: Bearer <JWT>).');
    request.auth = await authorize(deps.db, await deps.verifyToken(token), policy);
  }

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const problem = toProblem(error, request.id);
    // The cause of an outage is logged (scrubbed), never shown to the caller.
    if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
    if (error instanceof ProblemError) reply.headers(error.headers);
    if (error instanceof IdentityProviderUnavailableError) {
      reply.header('retry-after', String(error.retryAfterSeconds));
    }
    if (problem.status === 503 && !reply.hasHeader('retry-after')) reply.header('retry-after', '5');
    return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = pathOf(request.url);
    const allowed = allowedMethods(path);
    if (allowed.length > 0) {
      const detail = `${request.method} is not allowed on ${path}; use ${allowed.join(', ')}.`;
      return reply
        .code(405)
        .header('allow', allowed.join(', '))
        .type(PROBLEM_CONTENT_TYPE)
        .send(problemBody(405, 'method-not-allowed', detail, request.id));
    }
    return reply
      .code(404)
      .type(PROBLEM_CONTENT_TYPE)
      .send(problemBody(404, 'not-found', `No route ${request.method} ${path}.`, request.id));
  });

  app.get(
    '/healthz',
    {
      config: { policy: 'public', rateLimited: false },
      schema: {
        operationId: 'getHealth',
        tags: ['Operations'],
        summary: 'The process is up',
        description:
          'Answers as long as the process runs; it does not look at the database. Never rate limited.',
        response: {
          200: jsonResponse('The process is up.', OperationalStatus, { status: 'ok' }),
          ...problemResponses(431, 500),
        },
      },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      config: { policy: 'public', rateLimited: false },
      schema: {
        operationId: 'getReadiness',
        tags: ['Operations'],
        summary: 'The database answers',
        description: 'Ready to serve: the database answers a query. Never rate limited.',
        response: {
          200: jsonResponse('The database answers.', OperationalStatus, { status: 'ready' }),
          ...problemResponses(431, 500, 503),
        },
      },
    },
    async (request, reply) => {
      try {
        await deps.db.selectNoFrom((eb) => eb.lit(1).as('one')).execute();
        return { status: 'ready' };
      } catch (error) {
        request.log.warn({ err: error }, 'database not reachable');
        // The typed reply knows only the statuses written out in the schema; the problems come from a helper.
        return (reply as FastifyReply)
          .code(503)
          .type(PROBLEM_CONTENT_TYPE)
          .send(problemBody(503, 'not-ready', 'The database is not reachable.', request.id));
      }
    },
  );

  if (deps.localJwks) {
    const jwks = deps.localJwks;
    app.get(
      '/.well-known/jwks.json',
      {
        config: { policy: 'public' },
        schema: {
          operationId: 'getLocalIssuerKeys',
          tags: ['Operations'],
          summary: "The local token issuer's public keys",
          description:
            'The JWKS (RFC 7517) of the local issuer, served when no external identity provider is configured.',
          response: {
            200: jsonResponse('The public keys tokens are verified with.', LocalJwks, {
              keys: [
                {
                  kty: 'EC',
                  crv: 'P-256',
                  x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
                  y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
                  kid: 'local-mi3k2x9a',
                  alg: 'ES256',
                  use: 'sig',
                },
              ],
            }),
            ...problemResponses(429, 431, 500),
          },
        },
      },
      // The local issuer's keys are EC P-256 public JWKs with kid, alg and use (src/auth/local-issuer.ts).
      async () => jwks as Static<typeof LocalJwks>,
    );
  }

  await app.register(salesRepRoutes({ db: deps.db, identity: deps.identity }));
  await app.register(customerRoutes({ db: deps.db }));
  await app.register(effectRoutes({ db: deps.db }));
  await app.register(eventRoutes({ db: deps.db }));
  await app.register(
    webhookRoutes({ db: deps.db, settings: deps.webhooks ?? { allowPrivateNetworks: false } }),
  );
  for (const routes of deps.extraRoutes ?? []) await app.register(routes);

  if (deps.metricsToken) metricsRoute(app, metrics, deps.metricsToken);
  consoleRoutes(app, deps.console);

  app.get('/openapi.json', { config: { policy: 'public' }, schema: { hide: true } }, async () =>
    app.swagger(),
  );
  await app.register(async (docs) => {
    docs.addHook('onRoute', (route) => {
      route.config = { ...route.config, policy: 'public' };
    });
    // The UI's own redirect of /docs/static/index.html only matches without a query: with one it redirected to
    // itself, for ever.
    docs.addHook('onRequest', async (request, reply) => {
      if (request.routeOptions.url === '/docs/static/index.html') return reply.redirect('/docs/');
    });
    await docs.register(swaggerUi, { routePrefix: '/docs' });
  });

  return app;
}

/** The path of a request target, without the scheme and host of an absolute-form one or the query; cut short. */
function pathOf(target: string): string {
  const path = target.replace(/^[a-z][a-z\d+.-]*:\/\/[^/?#]*/i, '').split('?')[0] || '/';
  return truncate(path, 200);
}

function toProblem(error: FastifyError, requestId: string): Problem {
  if (error instanceof ProblemError) return error.toProblem(requestId);
  if (error instanceof IdentityProviderUnavailableError) {
    return problemBody(
      503,
      'identity-provider-unavailable',
      'The identity provider did not answer; nothing was changed. Try again shortly.',
      requestId,
    );
  }
  if (isDatabaseUnavailable(error)) {
    return problemBody(
      503,
      'database-unavailable',
      'The database is not reachable; try again shortly.',
      requestId,
    );
  }
  if (error.validation) {
    return schemaProblem(error.validation, error.validationContext ?? 'body').toProblem(requestId);
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problemBody(413, 'body-too-large', 'The request body is too large.', requestId);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problemBody(
        415,
        'unsupported-media-type',
        'The request body must be application/json.',
        requestId,
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return problemBody(
        400,
        'validation',
        'The request body is empty; a JSON object is expected.',
        requestId,
        [{ field: 'body', message: 'is required' }],
      );
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return problemBody(400, 'malformed-json', 'The request body is not valid JSON.', requestId, [
        { field: 'body', message: 'is not valid JSON' },
      ]);
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    if (error instanceof SyntaxError) {
      return problemBody(400, 'malformed-json', 'The request body is not valid JSON.', requestId, [
        { field: 'body', message: 'is not valid JSON' },
      ]);
    }
    return problemBody(status, 'client-error', error.message, requestId);
  }
  return problemBody(
    500,
    'internal',
    'An unexpected error occurred; the request id identifies it in the logs.',
    requestId,
  );
}
