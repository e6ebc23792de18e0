import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requireAuth } from '../auth/policies.js';
import type { Db } from '../db/database.js';
import { requireDecimalPageParameters } from '../kernel/paging.js';
import { errorResponses } from '../kernel/route-schema.js';
import { EffectList, ListEffectsQuery, RetryEffectBody, RetryEffectResponse } from './schemas.js';
import { listEffects, retryEffect } from './service.js';

const tags = ['Effects'];

/** What admins see of their organization's side effects (emails, identity provider, data sync), and the retry of a dead one. */
export function effectRoutes(deps: { db: Db }): FastifyPluginAsyncTypebox {
  const { db } = deps;
  return async (app) => {
    app.get(
      '/api/organizations/effects',
      {
        config: { policy: 'Admin' },
        schema: {
          tags,
          summary: "The organization's effects that are pending or dead",
          description: "Policy: Admin of the token's organization. Oldest first.",
          querystring: ListEffectsQuery,
          response: { 200: EffectList, ...errorResponses(400, 401, 403) },
        },
        preValidation: requireDecimalPageParameters,
      },
      async (request) => listEffects(db, requireAuth(request).organization.id, request.query),
    );

    app.post(
      '/api/organizations/effects/retry',
      {
        config: { policy: 'Admin' },
        schema: {
          tags,
          summary: 'Retry a dead effect',
          description:
            "Policy: Admin of the token's organization. The effect becomes pending with a fresh set of attempts; " +
            'one that is not dead answers 409.',
          body: RetryEffectBody,
          response: { 200: RetryEffectResponse, ...errorResponses(400, 401, 403, 404, 409, 413, 415) },
        },
      },
      async (request) => {
        await retryEffect(db, requireAuth(request).organization.id, request.body.effectId);
        return { effectId: request.body.effectId, status: 'pending' as const };
      },
    );
  };
}
