// @fastify/swagger configured for the service's document, and the routes that serve it (/openapi.json, /docs).

import swagger, { type FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { KindGuard, type TSchema } from '@sinclair/typebox';
import type { FastifyContextConfig, FastifyInstance, RouteOptions } from 'fastify';
import { dataSyncWebhook } from '../effects/openapi.js';
import { problemResponses } from '../routing/route-schema.js';
import { eventDeliveryWebhook } from '../webhooks/openapi.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The request body may be left out (the DELETE whose id may come in the query instead). */
    bodyOptional?: true;
  }
}

type HeaderObjects = NonNullable<
  NonNullable<NonNullable<FastifyDynamicSwaggerOptions['openapi']>['components']>['headers']
>;

const integerHeader = (description: string) => ({
  description,
  schema: { type: 'integer' as const, format: 'int32', minimum: 0, maximum: 2_147_483_647 },
});

/**
 * Headers the service sets on many responses, declared once under components.headers and referenced from each
 * response that carries them (docs/api.md "What a client can rely on").
 */
const COMMON_HEADERS = {
  'X-Request-Id': {
    description:
      "The request's id: the caller's `X-Request-Id` when it is 1–128 printable characters, else a new UUID. " +
      'Problem bodies carry it as `requestId`.',
    required: true,
    schema: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[!-~]+$' },
  },
  'X-RateLimit-Limit': integerHeader(
    'Requests allowed per window to this caller (user and organization, or address).',
  ),
  'X-RateLimit-Remaining': integerHeader('Requests left in the current window.'),
  'X-RateLimit-Reset': integerHeader('Seconds until the current window ends.'),
  'Retry-After': integerHeader('Seconds to wait before trying again.'),
  'Access-Control-Allow-Origin': {
    description:
      "Present only when the request's `Origin` is one of `CORS_ORIGINS`, or, with the embedded sign-in, the origin " +
      'of a redirect URI of a registered client (otherwise CORS is closed).',
    schema: { type: 'string', maxLength: 2048 },
  },
  'WWW-Authenticate': {
    description:
      'The authentication scheme the service expects: `Bearer`; for a DPoP-bound token or a request with ' +
      '`Authorization: DPoP`, the DPoP challenge with its error (`invalid_token`, `invalid_dpop_proof`; RFC 9449).',
    schema: { type: 'string', pattern: '^(Bearer|DPoP)\\b', maxLength: 1024 },
  },
  'Accept-Encoding': {
    description: 'The content codings a request body may have: only `identity` (none).',
    schema: { type: 'string', enum: ['identity'] },
  },
} satisfies HeaderObjects;

type HeaderName = keyof typeof COMMON_HEADERS;

/** Statuses whose response carries a header beyond those every response has. */
const HEADERS_BY_STATUS: Record<string, HeaderName[]> = {
  '401': ['WWW-Authenticate'],
  '415': ['Accept-Encoding'],
  '429': ['Retry-After'],
  '503': ['Retry-After'],
};

const SERVER = {
  url: '/',
  description: 'The deployment that served this document, whichever it is (local, staging or production).',
  // Meant for the organizations' own clients, not only for the operators.
  'x-internal': false,
};

const TAGS = [
  { name: 'Organizations', description: "The caller's own organization, by name." },
  { name: 'Sales reps', description: "An organization's sales reps, and a rep's own organizations." },
  { name: 'Customers', description: "An organization's customers; a SalesRep sees only those it serves." },
  { name: 'Effects', description: 'Side effects (identity provider, email, data sync) not yet carried out.' },
  { name: 'Operations', description: 'Health, readiness and the local issuer keys; no token needed.' },
  { name: 'Events', description: "The organization's audit log." },
  { name: 'Webhooks', description: "URLs the organization's events are delivered to, signed." },
];

interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  security?: unknown[];
  requestBody?: { required?: boolean };
  responses?: Record<
    string,
    { content?: unknown; headers?: Record<string, { required?: boolean; $ref?: string; schema?: TSchema }> }
  >;
}

/** Methods whose requests Fastify reads a body of, whatever the route declares: a body can be too large or of another type. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Declares 400, 413 and 415 on every route a body can be sent to, unless it declares them itself: a body that is
 * not JSON (or empty under a JSON media type), the body limit and the content-type check apply before the route's
 * schema is consulted. Routes that declare no responses (the /docs files) are left alone.
 */
function declareBodyRefusals(route: RouteOptions): void {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const schema = route.schema as { response?: Record<string, unknown> } | undefined;
  if (!schema?.response || !methods.some((method) => BODY_METHODS.has(method))) return;
  const missing = [400, 413, 415].filter((status) => !(String(status) in (schema.response ?? {})));
  schema.response = { ...schema.response, ...problemResponses(...missing) };
}

/**
 * Declares 414 on every route with a path parameter, unless it declares it itself: the router refuses a parameter
 * over 200 characters before the route's schema is consulted.
 */
function declareUriRefusal(route: RouteOptions): void {
  const schema = route.schema as { response?: Record<string, unknown> } | undefined;
  if (!schema?.response || !route.url.includes(':') || '414' in schema.response) return;
  schema.response = { ...schema.response, ...problemResponses(414) };
}

/**
 * The HEAD twin of a GET operation: Fastify answers HEAD for every GET route with the GET's status and headers
 * and no body, so the document says so.
 */
function headOperation(get: Operation): Operation {
  return {
    ...get,
    operationId: `${get.operationId}Head`,
    summary: `${get.summary ?? get.operationId} (headers only)`,
    description: `The GET's status and headers, without a body.${get.description ? ` ${get.description}` : ''}`,
    responses: Object.fromEntries(
      Object.entries(get.responses ?? {}).map(([status, { content: _body, ...response }]) => [
        status,
        response,
      ]),
    ),
  };
}

/**
 * @fastify/swagger, configured for the document a client generator and a linter can trust: servers, tags, the
 * bearer scheme, and the headers every response carries. What a route says of itself stays in its schema; what
 * follows from its config (public, rate limited, optional body) is added here, so it cannot be forgotten.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  const configs = new Map<string, FastifyContextConfig>();
  app.addHook('onRoute', (route) => {
    declareBodyRefusals(route);
    declareUriRefusal(route);
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    for (const method of methods) configs.set(`${method.toLowerCase()} ${path}`, route.config ?? {});
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Sales Reps API',
        version: '1.0.0',
        description:
          'Sales reps and their organization assignments. Every request carries `Authorization: Bearer <JWT>`; ' +
          'every error is `application/problem+json` (RFC 9457).',
      },
      servers: [SERVER],
      tags: TAGS,
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description:
              "A JWT from the organization's identity provider (or the local issuer), handled as RFC8725 (JSON " +
              'Web Token Best Current Practices) asks: asymmetric algorithms only (never "none" or a shared ' +
              'secret), keys only from the configured JWKS, `iss`, `aud`, `exp` and `nbf` checked.',
          },
        },
        headers: COMMON_HEADERS,
      },
      security: [{ bearer: [] }],
      webhooks: { eventDelivery: eventDeliveryWebhook, dataSyncChange: dataSyncWebhook },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    transformObject: (documentObject) => {
      if (!('openapiObject' in documentObject)) return documentObject.swaggerObject;
      const openapiObject = documentObject.openapiObject;
      const paths = (openapiObject.paths ?? {}) as Record<string, Record<string, Operation>>;
      for (const [path, item] of Object.entries(paths)) {
        if (item.get && !item.head) item.head = headOperation(item.get);
        for (const [method, operation] of Object.entries(item)) {
          const config = configs.get(`${method} ${path}`) ?? {};
          if (config.policy === 'public') operation.security = [];
          if (config.bodyOptional && operation.requestBody) operation.requestBody.required = false;
          for (const [status, response] of Object.entries(operation.responses ?? {})) {
            // A header a route declares itself (X-Total-Count, Link) is one it always sends, unless its schema is
            // Type.Optional (the events' Link, absent on the last page).
            for (const header of Object.values(response.headers ?? {})) {
              header.required = !(header.schema && KindGuard.IsOptional(header.schema));
            }
            const names: HeaderName[] = [
              'X-Request-Id',
              ...(config.rateLimited === false
                ? []
                : (['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'] as const)),
              ...(HEADERS_BY_STATUS[status] ?? []),
              'Access-Control-Allow-Origin',
            ];
            response.headers = {
              ...response.headers,
              ...Object.fromEntries(names.map((name) => [name, { $ref: `#/components/headers/${name}` }])),
            };
          }
        }
      }
      return openapiObject;
    },
  });
}

/** GET /openapi.json (the document) and /docs (its browsable UI), both public. */
export async function serveOpenApi(app: FastifyInstance): Promise<void> {
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
}
