// The OpenAPI documentation of the effect routes: each operation's summary, description, responses and examples.
import { errorResponses, jsonResponse, webhookPost } from '../routing/route-schema.js';
import { EffectList, RetryEffectResponse, SyncDelivery } from './schemas.js';

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

/** A change of a rep's access, told to the data-sync system (SYNC=webhook), as the OpenAPI `webhooks` object says. */
export const dataSyncWebhook = webhookPost({
  tags: ['Effects'],
  operationId: 'receiveDataSyncChange',
  summary: "A change of a rep's access, told to the data-sync system",
  description:
    "With `SYNC=webhook`, one POST to `SYNC_WEBHOOK_URL` per change of a rep's access, signed with " +
    "`SYNC_WEBHOOK_SECRET`, in the order of the rep's changes. Any answer but 2xx is tried again with backoff " +
    "(the effect's retries, docs/effects.md).",
  idDescription: "The effect's id, the same on every attempt: drop a delivery whose id was seen already.",
  payload: SyncDelivery,
  example: {
    type: 'salesrep.access.granted',
    timestamp: '2026-12-01T09:15:01.000Z',
    data: {
      salesRepId: 'KJ76hgt87hgas4ffG3',
      organizationId: '34ku8ni238sdin0n23cdm6',
      repNumber: 'REP-001',
      email: 'john.doe@example.com',
    },
  },
  answers: { '500': 'Any status but 2xx: the change is told again later.' },
});
