import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requireAuth } from '../auth/policies.js';
import type { Db } from '../db/database.js';
import { requestChange } from '../events/record.js';
import { requireDecimalPageParameters } from '../routing/page-query.js';
import { errorResponses, jsonResponse } from '../routing/route-schema.js';
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
          operationId: 'listEffects',
          summary: "The organization's effects that are pending or dead",
          description: "Policy: Admin of the token's organization. Oldest first.",
          querystring: ListEffectsQuery,
          response: {
            200: jsonResponse('A page of effects, oldest first.', EffectList, [
              {
                effectId: '4711',
                kind: 'email.welcome',
                status: 'dead',
                salesRepId: 'KJ76hgt87hgas4ffG3',
                attempts: 20,
                nextAttemptAt: '2026-11-20T16:40:12.000Z',
                lastError: 'SMTP 550: mailbox unavailable',
                createdAt: '2026-11-20T09:15:00.000Z',
              },
            ]),
            ...errorResponses(400, 401, 403),
          },
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
          operationId: 'retryEffect',
          summary: 'Retry a dead effect',
          description:
            "Policy: Admin of the token's organization. The effect becomes pending with a fresh set of attempts; " +
            'one that is not dead answers 409.',
          body: RetryEffectBody,
          response: {
            200: jsonResponse('The effect is pending again.', RetryEffectResponse, {
              effectId: '4711',
              status: 'pending',
            }),
            ...errorResponses(400, 401, 403, 404, 409, 413, 415),
          },
        },
      },
      async (request) => {
        await retryEffect(
          db,
          requireAuth(request).organization.id,
          request.body.effectId,
          requestChange(request),
        );
        return { effectId: request.body.effectId, status: 'pending' as const };
      },
    );
  };
}
