// The OpenAPI documentation of the webhook routes: each operation's summary, description, responses and examples.
import { DEACTIVATION_EVENT } from '../events/openapi.js';
import { errorResponses, jsonResponse, webhookPost } from '../routing/route-schema.js';
import {
  CreatedWebhook,
  DeletedWebhook,
  DeliveryList,
  EventDelivery,
  RotatedSecret,
  WebhookList,
} from './schemas.js';

const tags = ['Webhooks'];
const adminOnly = "Policy: Admin of the token's organization.";
const EXAMPLE_ID = 'Wh3kLm9QwErTyUiOp1AsDf';
const EXAMPLE_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

export const webhookDocs = {
  createWebhook: {
    tags,
    operationId: 'createWebhook',
    summary: "Subscribe a URL to the organization's events",
    description:
      `${adminOnly} Each event (of \`eventTypes\`, or every one) is POSTed to the URL as Standard Webhooks ` +
      'say, signed with the secret in the answer, which is shown only here. Only https URLs on the internet ' +
      'are accepted: loopback, private, link-local and metadata addresses are refused, also behind a name.',
    response: {
      201: jsonResponse('The webhook, with its signing secret (shown only here).', CreatedWebhook, {
        id: EXAMPLE_ID,
        url: 'https://erp.example.com/hooks/salesreps',
        eventTypes: ['sales_rep.deactivated'],
        secret: EXAMPLE_SECRET,
      }),
      ...errorResponses(400, 401, 403, 409, 413, 415),
    },
  },

  listWebhooks: {
    tags,
    operationId: 'listWebhooks',
    summary: "The organization's webhooks (never their secrets)",
    description: `${adminOnly} Oldest first.`,
    response: {
      200: jsonResponse('The webhooks.', WebhookList, [
        {
          id: EXAMPLE_ID,
          url: 'https://erp.example.com/hooks/salesreps',
          eventTypes: null,
          enabled: true,
          disabledReason: null,
          createdAt: '2026-12-01T09:15:00.000Z',
        },
      ]),
      ...errorResponses(401, 403),
    },
  },

  deleteWebhook: {
    tags,
    operationId: 'deleteWebhook',
    summary: 'Delete a webhook',
    description: `${adminOnly} Deliveries not yet made are dropped.`,
    response: {
      200: jsonResponse('The webhook is gone.', DeletedWebhook, { success: true }),
      ...errorResponses(400, 401, 403, 404),
    },
  },

  rotateWebhookSecret: {
    tags,
    operationId: 'rotateWebhookSecret',
    summary: "Replace a webhook's signing secret",
    description:
      `${adminOnly} Deliveries carry a signature by the new secret and, for 24 hours, one by the previous ` +
      'secret too, so the receiver can switch without missing one.',
    response: {
      200: jsonResponse('The new secret (shown only here).', RotatedSecret, {
        id: EXAMPLE_ID,
        secret: EXAMPLE_SECRET,
        previousSecretValidUntil: '2026-12-02T09:15:00.000Z',
      }),
      ...errorResponses(400, 401, 403, 404),
    },
  },

  listWebhookDeliveries: {
    tags,
    operationId: 'listWebhookDeliveries',
    summary: "A webhook's latest delivery attempts",
    description: `${adminOnly} Newest first: the outcome, the receiver's status and the latency of each.`,
    response: {
      200: jsonResponse('The newest attempts.', DeliveryList, [
        {
          eventId: 'Vb3kLm9QwErTyUiOp1AsDf',
          attemptedAt: '2026-12-01T09:15:01.000Z',
          outcome: 'delivered',
          statusCode: 204,
          latencyMs: 87,
          error: null,
        },
      ]),
      ...errorResponses(400, 401, 403, 404),
    },
  },
};

/** The delivery of an event to a subscribed URL, as the OpenAPI `webhooks` object describes it (docs/events.md). */
export const eventDeliveryWebhook = webhookPost({
  tags: ['Webhooks'],
  operationId: 'receiveEvent',
  summary: 'An event, delivered to a subscribed URL',
  description:
    "One POST per event and webhook whose `eventTypes` take its action, signed with the webhook's secret. Any " +
    'answer but 2xx, a time-out or no connection is tried again (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, ' +
    '24 h); 410 disables the webhook at once. The events of one thing arrive in the order they happened; ' +
    'receivers that need a total order sort by `data.occurredAt` and drop repeats by `webhook-id`.',
  idDescription: "The event's id, the same on every attempt: drop a delivery whose id was seen already.",
  payload: EventDelivery,
  example: {
    type: 'sales_rep.deactivated',
    timestamp: '2026-12-01T09:15:01.000Z',
    data: DEACTIVATION_EVENT,
  },
  answers: { '410': 'Gone: the webhook is disabled and gets no more deliveries.' },
});
