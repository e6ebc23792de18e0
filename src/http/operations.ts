// The operational routes: health, readiness, and the local issuer's public keys.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Db } from '../db/database.js';
import { PROBLEM_CONTENT_TYPE, problemBody } from '../kernel/problem.js';
import { operationDocs as docs, type LocalJwks } from './operations-openapi.js';

/** GET /healthz and /readyz (public, never rate limited), and /.well-known/jwks.json when the local issuer signs. */
export function operationRoutes(
  untyped: FastifyInstance,
  deps: { db: Db; localJwks: { keys: object[] } | undefined },
): void {
  const app = untyped.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/healthz',
    { config: { policy: 'public', rateLimited: false }, schema: { ...docs.getHealth } },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    { config: { policy: 'public', rateLimited: false }, schema: { ...docs.getReadiness } },
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
      { config: { policy: 'public' }, schema: { ...docs.getLocalIssuerKeys } },
      // The local issuer's keys are EC P-256 public JWKs with kid, alg and use (src/auth/local-issuer.ts).
      async () => jwks as Static<typeof LocalJwks>,
    );
  }
}
