// The admin's effect routes: list pending and dead effects, retry a dead one.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requireAuth } from '../auth/policies.js';
import type { Db } from '../db/database.js';
import { requestChange } from '../events/record.js';
import { requireDecimalPageParameters } from '../routing/page-query.js';
import { effectDocs as docs } from './openapi.js';
import { ListEffectsQuery, RetryEffectBody } from './schemas.js';
import { listEffects, retryEffect } from './service.js';

/** What admins see of their organization's side effects (emails, identity provider, data sync), and the retry of a dead one. */
export function effectRoutes(deps: { db: Db }): FastifyPluginAsyncTypebox {
  const { db } = deps;
  return async (app) => {
    app.get(
      '/api/organizations/effects',
      {
        config: { policy: 'Admin' },
        schema: { ...docs.listEffects, querystring: ListEffectsQuery },
        preValidation: requireDecimalPageParameters,
      },
      async (request) => listEffects(db, requireAuth(request).organization.id, request.query),
    );

    app.post(
      '/api/organizations/effects/retry',
      {
        config: { policy: 'Admin' },
        schema: { ...docs.retryEffect, body: RetryEffectBody },
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
