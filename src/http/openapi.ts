// @fastify/swagger configured for the service's document, and the routes that serve it (/openapi.json, /docs).

import swagger, { type FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyContextConfig, FastifyInstance } from 'fastify';

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
      "Present only when the request's `Origin` is one of `CORS_ORIGINS` (CORS is closed by default).",
    schema: { type: 'string', maxLength: 2048 },
  },
  'WWW-Authenticate': {
    description: 'The authentication scheme the service expects: `Bearer`.',
    schema: { type: 'string', enum: ['Bearer'] },
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
];

interface Operation {
  security?: unknown[];
  requestBody?: { required?: boolean };
  responses?: Record<string, { headers?: Record<string, { required?: boolean; $ref?: string }> }>;
}

/**
 * @fastify/swagger, configured for the document a client generator and a linter can trust: servers, tags, the
 * bearer scheme, and the headers every response carries. What a route says of itself stays in its schema; what
 * follows from its config (public, rate limited, optional body) is added here, so it cannot be forgotten.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  const configs = new Map<string, FastifyContextConfig>();
  app.addHook('onRoute', (route) => {
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
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    transformObject: (documentObject) => {
      if (!('openapiObject' in documentObject)) return documentObject.swaggerObject;
      const openapiObject = documentObject.openapiObject;
      const paths = (openapiObject.paths ?? {}) as Record<string, Record<string, Operation>>;
      for (const [path, item] of Object.entries(paths)) {
        for (const [method, operation] of Object.entries(item)) {
          const config = configs.get(`${method} ${path}`) ?? {};
          if (config.policy === 'public') operation.security = [];
          if (config.bodyOptional && operation.requestBody) operation.requestBody.required = false;
          for (const [status, response] of Object.entries(operation.responses ?? {})) {
            // A header a route declares itself (X-Total-Count, Link) is one it always sends.
            for (const header of Object.values(response.headers ?? {})) header.required = true;
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
