import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyRequest,
  type FastifyServerOptions,
  LogController,
} from 'fastify';
import { authorize } from '../auth/policies.js';
import type { TokenVerifier } from '../auth/verify.js';
import { type HttpConfig, loadConfig } from '../config.js';
import { customerRoutes } from '../customers/routes.js';
import type { Db } from '../db/database.js';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import { effectRoutes } from '../effects/routes.js';
import { type IdentityDirectory, IdentityProviderUnavailableError } from '../identity/port.js';
import { Problem, ProblemError, problemBody, truncate, unauthorized } from '../kernel/problem.js';
import { compileValidator, schemaProblem } from '../kernel/validation.js';
import { salesRepRoutes } from '../salesreps/routes.js';
import { logEachRequest } from './logging.js';
import { createMetrics, measureRequests, metricsRoute, type ServiceMetrics } from './metrics.js';
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
  /** Rate limits, CORS and time-outs; the defaults of the configuration when absent. */
  http?: HttpConfig;
  /** Where request durations are recorded; a registry of the app's own when absent. */
  metrics?: ServiceMetrics;
  /** Serves GET /metrics on this app's port to callers presenting it as a bearer token. */
  metricsToken?: string | undefined;
  /** Called with the app as soon as it exists, before any hook or route is added (tests watch its routes). */
  onApp?: ((app: FastifyInstance) => void) | undefined;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const http = deps.http ?? loadConfig({}).http;
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

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Sales Reps API',
        version: '1.0.0',
        description:
          'Sales reps and their organization assignments. Every request carries `Authorization: Bearer <JWT>`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });

  logEachRequest(app);
  measureRequests(app, metrics);
  await registerSecurityHeaders(app, http);
  refuseRequestsWithoutHost(app);
  const limitRate = await registerRateLimit(app, http.rateLimit);

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

  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .type(PROBLEM_CONTENT_TYPE)
      .send(problemBody(404, 'not-found', `No route ${request.method} ${pathOf(request.url)}.`, request.id)),
  );

  app.get(
    '/healthz',
    {
      config: { policy: 'public', rateLimited: false },
      schema: {
        tags: ['Operations'],
        summary: 'The process is up',
        response: { 200: Type.Object({ status: Type.String() }) },
      },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      config: { policy: 'public', rateLimited: false },
      schema: {
        tags: ['Operations'],
        summary: 'The database answers',
        response: { 200: Type.Object({ status: Type.String() }), 503: Type.Ref('Problem') },
      },
    },
    async (request, reply) => {
      try {
        await deps.db.selectNoFrom((eb) => eb.lit(1).as('one')).execute();
        return { status: 'ready' };
      } catch (error) {
        request.log.warn({ err: error }, 'database not reachable');
        return reply
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
          tags: ['Operations'],
          summary: "The local token issuer's public keys",
          response: {
            200: Type.Object({
              keys: Type.Array(
                Type.Object(
                  {},
                  {
                    additionalProperties: true,
                    description: 'A public JWK (RFC 7517): kty, crv, x, y, kid, alg, use',
                  },
                ),
              ),
            }),
          },
        },
      },
      async () => jwks,
    );
  }

  await app.register(salesRepRoutes({ db: deps.db, identity: deps.identity }));
  await app.register(customerRoutes({ db: deps.db }));
  await app.register(effectRoutes({ db: deps.db }));

  if (deps.metricsToken) metricsRoute(app, metrics, deps.metricsToken);

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
