// The Fastify app put together: auth, security, errors, OpenAPI, health, metrics and every feature's routes.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyServerOptions,
  LogController,
} from 'fastify';
import type { ProofCheck } from '../auth/dpop.js';
import type { TokenVerifier } from '../auth/verify.js';
import type { HttpConfig } from '../config.js';
import { currentOrganizationRoutes } from '../current-organization/routes.js';
import { customerRoutes } from '../customers/routes.js';
import type { Db } from '../db/database.js';
import { effectRoutes } from '../effects/routes.js';
import { eventRoutes } from '../events/routes.js';
import type { IdentityDirectory } from '../identity/port.js';
import { Problem } from '../kernel/problem.js';
import { compileValidator } from '../kernel/validation.js';
import { salesRepRoutes } from '../salesreps/routes.js';
import { scimRoutes, scimTokenRoutes } from '../scim/routes.js';
import { SCIM_BASE_PATH } from '../scim/schemas.js';
import { ssoRoutes } from '../sso/routes.js';
import type { SsoSettings } from '../sso/service.js';
import { webhookRoutes } from '../webhooks/routes.js';
import { authenticateEachRequest } from './auth-hook.js';
import { consoleRoutes } from './console.js';
import type { ConsoleSignIn } from './console-sign-in.js';
import { refuseEncodedBodies } from './content-coding.js';
import { answerErrorsAsProblems, answerErrorsAsScim } from './error-mapping.js';
import { logEachRequest } from './logging.js';
import { methodsByPath } from './method-not-allowed.js';
import { createMetrics, measureRequests, metricsRoute, type ServiceMetrics } from './metrics.js';
import { registerOpenApi, serveOpenApi } from './openapi.js';
import { operationRoutes } from './operations.js';
import {
  type ClientOriginCheck,
  refuseRequestsWithoutHost,
  registerRateLimit,
  registerSecurityHeaders,
  requestIdFor,
  serverLimits,
} from './security.js';

export interface AppDependencies {
  db: Db;
  verifyToken: TokenVerifier;
  /** How a DPoP-bound token's proof is checked (RFC 9449), and that a bound token comes with one. */
  checkProof: ProofCheck;
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
  /** With the embedded sign-in: whether a browser origin is a registered client's, which the API's CORS admits. */
  isClientOrigin?: ClientOriginCheck | undefined;
  /** Routes of units that only some configurations serve (the embedded sign-in, src/signin/). */
  extraRoutes?: FastifyPluginAsync[] | undefined;
  /** Called with the app as soon as it exists, before any hook or route is added (tests watch its routes). */
  onApp?: ((app: FastifyInstance) => void) | undefined;
  /** Where the web console signs in; absent: the console says it is not configured (docs/console.md). */
  console?: ConsoleSignIn | undefined;
  /** PUBLIC_URL: where SCIM resources say they are (`meta.location`). */
  publicUrl: string;
  /** Which webhook URLs are accepted; private networks refused when absent. */
  webhooks?: { allowPrivateNetworks: boolean };
  /** The enterprise connections (docs/sso.md): the service's own with the embedded sign-in, else refused (409). */
  sso: SsoSettings;
  /**
   * Called once each request that may have changed something (any method but GET, HEAD and OPTIONS) is answered:
   * its effects are committed by then, and the effect worker claims them at once rather than at its next poll.
   */
  afterChange?: (() => void) | undefined;
}

/**
 * The Fastify app, put together from its parts: the request hooks (logging, metrics, security headers, the body's
 * coding, authentication and the rate limit), the one error mapping, the routes, the OpenAPI document. Hooks of one
 * kind run in the order they are added here.
 */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const { http } = deps;
  const metrics = deps.metrics ?? createMetrics({ db: deps.db, poolUse: () => undefined });
  const app = createFastify(deps, http);
  deps.onApp?.(app);

  prepareRequests(app);
  await registerOpenApi(app);
  const allowedMethods = methodsByPath(app);

  logEachRequest(app);
  measureRequests(app, metrics);
  await registerSecurityHeaders(app, http, deps.isClientOrigin);
  refuseRequestsWithoutHost(app);
  const limitRate = await registerRateLimit(app, http.rateLimit);
  app.addHook('preParsing', refuseEncodedBodies);
  if (deps.afterChange) wakeAfterEachChange(app, deps.afterChange);
  authenticateEachRequest(app, deps, limitRate);
  answerErrorsAsProblems(app, allowedMethods);

  operationRoutes(app, deps);
  await registerFeatureRoutes(app, deps, allowedMethods);
  if (deps.metricsToken) metricsRoute(app, metrics, deps.metricsToken);
  consoleRoutes(app, deps.console);
  await serveOpenApi(app);
  return app;
}

function createFastify(deps: AppDependencies, http: HttpConfig): FastifyInstance {
  return Fastify({
    logger: deps.logger,
    bodyLimit: deps.bodyLimitBytes,
    requestIdHeader: false,
    genReqId: requestIdFor,
    // One line per request, written by logEachRequest.
    logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: true }),
    routerOptions: { maxParamLength: 200 },
    ...serverLimits(http),
  }).withTypeProvider<TypeBoxTypeProvider>();
}

/** What every route relies on: the service's validator, the Problem schema, the caller's slot, JSON bodies only. */
function prepareRequests(app: FastifyInstance): void {
  app.setValidatorCompiler(({ schema, httpPart }) => compileValidator(schema, httpPart ?? 'body'));
  app.addSchema(Problem);
  app.decorateRequest('auth', undefined);
  // A JSON text sent as text/plain is 415, as any other media type.
  app.removeContentTypeParser('text/plain');
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Calls `afterChange` once each request that may have changed something is answered. */
function wakeAfterEachChange(app: FastifyInstance, afterChange: () => void): void {
  app.addHook('onResponse', async (request) => {
    if (!SAFE_METHODS.has(request.method)) afterChange();
  });
}

/** The features' routes, and those of units only some configurations serve. */
async function registerFeatureRoutes(
  app: FastifyInstance,
  deps: AppDependencies,
  allowedMethods: (path: string) => string[],
): Promise<void> {
  await app.register(salesRepRoutes({ db: deps.db, identity: deps.identity }));
  await app.register(customerRoutes({ db: deps.db }));
  await app.register(currentOrganizationRoutes());
  await app.register(effectRoutes({ db: deps.db }));
  await app.register(eventRoutes({ db: deps.db }));
  await app.register(
    webhookRoutes({ db: deps.db, settings: deps.webhooks ?? { allowPrivateNetworks: false } }),
  );
  await app.register(scimTokenRoutes({ db: deps.db }));
  // The SCIM protocol in a scope of its own, whose errors are SCIM errors rather than problems.
  await app.register(
    async (scope) => {
      answerErrorsAsScim(scope, allowedMethods);
      await scope.register(
        scimRoutes({ db: deps.db, identity: deps.identity, baseUrl: `${deps.publicUrl}${SCIM_BASE_PATH}` }),
      );
    },
    { prefix: SCIM_BASE_PATH },
  );
  await app.register(ssoRoutes({ db: deps.db, settings: deps.sso }));
  for (const routes of deps.extraRoutes ?? []) await app.register(routes);
}
