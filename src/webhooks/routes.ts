// The admin's webhook routes: subscribe, list, delete, rotate the secret and the delivery log.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { requireAuth } from '../auth/policies.js';
import type { Db } from '../db/database.js';
import { requestChange } from '../events/record.js';
import { webhookDocs as docs } from './openapi.js';
import { CreateWebhookBody, WebhookParams } from './schemas.js';
import {
  createWebhook,
  deleteWebhook,
  listWebhooks,
  rotateWebhookSecret,
  type WebhookSettings,
  webhookDeliveries,
} from './service.js';

const organizationOf = (request: FastifyRequest) => requireAuth(request).organization;

/** An organization's event webhooks: subscribe, list, delete, rotate the secret, and the delivery log. */
export function webhookRoutes(deps: { db: Db; settings: WebhookSettings }): FastifyPluginAsyncTypebox {
  const { db, settings } = deps;
  return async (app) => {
    app.post(
      '/api/organizations/webhooks',
      {
        config: { policy: 'Admin' },
        schema: { ...docs.createWebhook, body: CreateWebhookBody },
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
        schema: { ...docs.listWebhooks },
      },
      async (request) => listWebhooks(db, organizationOf(request).id),
    );

    app.delete(
      '/api/organizations/webhooks/:id',
      {
        config: { policy: 'Admin' },
        schema: { ...docs.deleteWebhook, params: WebhookParams },
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
        schema: { ...docs.rotateWebhookSecret, params: WebhookParams },
      },
      async (request) =>
        rotateWebhookSecret(db, organizationOf(request).id, request.params.id, requestChange(request)),
    );

    app.get(
      '/api/organizations/webhooks/:id/deliveries',
      {
        config: { policy: 'Admin' },
        schema: { ...docs.listWebhookDeliveries, params: WebhookParams },
      },
      async (request) => webhookDeliveries(db, organizationOf(request).id, request.params.id),
    );
  };
}
