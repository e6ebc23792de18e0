// The OpenAPI document made without a database: what `salesreps openapi` prints and the client is built from.
import type { FastifyPluginAsync } from 'fastify';
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';
import { createProofCheck } from '../auth/dpop.js';
import { loadConfig } from '../config.js';
import type { Tables } from '../db/schema.js';
import { localIdentityDirectory } from '../identity/from-config.js';
import { unauthorized } from '../kernel/problem.js';
import { invitationRoutes } from '../signin/routes.js';
import { ssoSettings } from '../sso/runtime.js';
import { buildApp } from './app.js';

/**
 * The OpenAPI document the service serves at /openapi.json, made without a database or a key: the routes are
 * registered (with the local issuer's JWKS route, as the embedded default has it) and never called. What
 * `salesreps openapi` prints, and what the checked-in client is generated from.
 */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  const config = loadConfig({});
  // A Kysely that compiles queries and runs none: building the routes needs a database object, not a database.
  const db = new Kysely<Tables>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (kysely) => new PostgresIntrospector(kysely),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
  const app = await buildApp({
    db,
    verifyToken: async () => {
      throw unauthorized('This app only describes the API.');
    },
    checkProof: createProofCheck(db, config.publicUrl, config.auth.clockToleranceSeconds),
    identity: localIdentityDirectory,
    localJwks: { keys: [] },
    bodyLimitBytes: config.bodyLimitBytes,
    logger: false,
    http: config.http,
    publicUrl: config.publicUrl,
    sso: ssoSettings(config),
    // The embedded sign-in's API endpoint (its pages and the provider's endpoints are not part of the document).
    extraRoutes: [invitationRoutes({ db, settings: config.signin }) as FastifyPluginAsync],
  });
  try {
    await app.ready();
    return app.swagger() as unknown as Record<string, unknown>;
  } finally {
    await app.close();
  }
}
