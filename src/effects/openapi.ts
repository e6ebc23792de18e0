// The OpenAPI documentation of the effect routes: each operation's summary, description, responses and examples.
import { errorResponses, jsonResponse } from '../routing/route-schema.js';
import { EffectList, RetryEffectResponse } from './schemas.js';

const tags = ['Effects'];

export const effectDocs = {
  listEffects: {
    tags,
    operationId: 'listEffects',
    summary: "The organization's effects that are pending or dead",
    description: "Policy: Admin of the token's organization. Oldest first.",
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

  retryEffect: {
    tags,
    operationId: 'retryEffect',
    summary: 'Retry a dead effect',
    description:
      "Policy: Admin of the token's organization. The effect becomes pending with a fresh set of attempts; " +
      'one that is not dead answers 409.',
    response: {
      200: jsonResponse('The effect is pending again.', RetryEffectResponse, {
        effectId: '4711',
        status: 'pending',
      }),
      ...errorResponses(400, 401, 403, 404, 409, 413, 415),
    },
  },
};
