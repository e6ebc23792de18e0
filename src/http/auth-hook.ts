// The auth hook: each request's bearer token checked against its route's policy, then its rate counted.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ProofCheck } from '../auth/dpop.js';
import { authorize } from '../auth/policies.js';
import { authorizeScim } from '../auth/scim-tokens.js';
import type { TokenVerifier } from '../auth/verify.js';
import type { Db } from '../db/database.js';
import { unauthorized } from '../kernel/problem.js';
import type { RateLimiter } from './security.js';

/**
 * Sets the request id header, then authorizes each request by its route's `config.policy` (default deny: a route
 * that declares none fails) and counts it against the rate limit.
 */
export function authenticateEachRequest(
  app: FastifyInstance,
  deps: { db: Db; verifyToken: TokenVerifier; checkProof: ProofCheck },
  limitRate: RateLimiter,
): void {
  async function authenticate(request: FastifyRequest): Promise<void> {
    if (request.is404) return;
    const policy = request.routeOptions.config.policy;
    if (policy === 'public') return;
    if (!policy) throw new Error(`Route ${request.routeOptions.url} declares no policy`);
    const [, scheme, token] = request.headers.authorization?.match(/^(Bearer|DPoP) ([^\s]+)$/i) ?? [];
    if (policy === 'Scim') {
      // A SCIM token is a plain bearer secret: a DPoP scheme is no SCIM token.
      if (!token || scheme?.toLowerCase() !== 'bearer')
        throw unauthorized('A bearer token is required (Authorization: Bearer <SCIM token>).');
      request.auth = await authorizeScim(deps.db, token);
      return;
    }
    if (!scheme || !token) throw unauthorized('A bearer token is required (Authorization: Bearer <JWT>).');
    const principal = await deps.verifyToken(token);
    // A DPoP-bound token is taken only with its proof (RFC 9449); a bearer token as before.
    await deps.checkProof({
      scheme: scheme.toLowerCase() === 'dpop' ? 'dpop' : 'bearer',
      token,
      boundKey: principal.dpopKey,
      method: request.method,
      path: request.url,
      proof: request.headers.dpop,
    });
    request.auth = await authorize(deps.db, principal, policy);
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
}
