import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { requireAuth } from '../auth/policies.js';
import type { Db } from '../db/database.js';
import { requestChange } from '../events/record.js';
import { errorResponses, jsonResponse } from '../routing/route-schema.js';
import {
  CreatedWebhook,
  CreateWebhookBody,
  DeletedWebhook,
  DeliveryList,
  RotatedSecret,
  WebhookList,
  WebhookParams,
} from './schemas.js';
import {
  createWebhook,
  deleteWebhook,
  listWebhooks,
  rotateWebhookSecret,
  type WebhookSettings,
  webhookDeliveries,
} from './service.js';

const tags = ['Webhooks'];
const adminOnly = "Policy: Admin of the token's organization.";
const EXAMPLE_ID = 'Wh3kLm9QwErTyUiOp1AsDf';
const EXAMPLE_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

const organizationOf = (request: FastifyRequest) => requireAuth(request).organization;

/** An organization's event webhooks: subscribe, list, delete, rotate the secret, and the delivery log. */
export function webhookRoutes(deps: { db: Db; settings: WebhookSettings }): FastifyPluginAsyncTypebox {
  const { db, settings } = deps;
  return async (app) => {
    app.post(
      '/api/organizations/webhooks',
      {
        config: { policy: 'Admin' },
        schema: {
          tags,
          operationId: 'createWebhook',
          summary: "Subscribe a URL to the organization's events",
          description:
            `${adminOnly} Each event (of \`eventTypes\`, or every one) is POSTed to the URL as Standard Webhooks ` +
            'say, signed with the secret in the answer, which is shown only here. Only https URLs on the internet ' +
            'are accepted: loopback, private, link-local and metadata addresses are refused, also behind a name.',
          body: CreateWebhookBody,
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
      },
      async (request, reply) => {
        const created = await createWebhook(
          db,
          organizationOf(request),
          request.body,
          requestChange(request),
          settings,
        );
        return reply.code(201).send(created);
      },
    );

    app.get(
      '/api/organizations/webhooks',
      {
        config: { policy: 'Admin' },
        schema: {
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
      },
      async (request) => listWebhooks(db, organizationOf(request).id),
    );

    app.delete(
      '/api/organizations/webhooks/:id',
      {
        config: { policy: 'Admin' },
        schema: {
          tags,
          operationId: 'deleteWebhook',
          summary: 'Delete a webhook',
          description: `${adminOnly} Deliveries not yet made are dropped.`,
          params: WebhookParams,
          response: {
            200: jsonResponse('The webhook is gone.', DeletedWebhook, { success: true }),
            ...errorResponses(400, 401, 403, 404),
          },
        },
      },
      async (request) => {
        await deleteWebhook(db, organizationOf(request).id, request.params.id, requestChange(request));
        return { success: true as const };
      },
    );

    app.post(
      '/api/organizations/webhooks/:id/rotate-secret',
      {
        config: { policy: 'Admin' },
        schema: {
          tags,
          operationId: 'rotateWebhookSecret',
          summary: "Replace a webhook's signing secret",
          description:
            `${adminOnly} Deliveries carry a signature by the new secret and, for 24 hours, one by the previous ` +
            'secret too, so the receiver can switch without missing one.',
          params: WebhookParams,
          response: {
            200: jsonResponse('The new secret (shown only here).', RotatedSecret, {
              id: EXAMPLE_ID,
              secret: EXAMPLE_SECRET,
              previousSecretValidUntil: '2026-12-02T09:15:00.000Z',
            }),
            ...errorResponses(400, 401, 403, 404),
          },
        },
      },
      async (request) =>
        rotateWebhookSecret(db, organizationOf(request).id, request.params.id, requestChange(request)),
    );

    app.get(
      '/api/organizations/webhooks/:id/deliveries',
      {
        config: { policy: 'Admin' },
        schema: {
          tags,
          operationId: 'listWebhookDeliveries',
          summary: "A webhook's latest delivery attempts",
          description: `${adminOnly} Newest first: the outcome, the receiver's status and the latency of each.`,
          params: WebhookParams,
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
      },
      async (request) => webhookDeliveries(db, organizationOf(request).id, request.params.id),
    );
  };
}
