// The admin's enterprise connection routes: PUT, GET and DELETE /api/organizations/sso, a setup link, a test.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { requireAuth } from '../auth/policies.js';
import type { Db } from '../db/database.js';
import { requestChange } from '../events/record.js';
import { ssoDocs as docs } from './openapi.js';
import { CreateSetupLinkBody, PutConnectionBody, StartTestSignInBody } from './schemas.js';
import { putConnection, removeConnection, type SsoSettings, showConnection } from './service.js';
import { createSetupLink, SETUP_LINK_DEFAULT_HOURS } from './setup-links.js';
import { startTestSignIn } from './test-sign-in.js';

const organizationOf = (request: FastifyRequest) => requireAuth(request).organization;

/** An organization's one enterprise connection. */
export function ssoRoutes(deps: { db: Db; settings: SsoSettings }): FastifyPluginAsyncTypebox {
  const { db, settings } = deps;
  return async (app) => {
    app.put(
      '/api/organizations/sso',
      { config: { policy: 'Admin' }, schema: { ...docs.putConnection, body: PutConnectionBody } },
      async (request) =>
        putConnection(db, settings, organizationOf(request), request.body, requestChange(request)),
    );

    app.get(
      '/api/organizations/sso',
      { config: { policy: 'Admin' }, schema: { ...docs.getConnection } },
      async (request) => showConnection(db, settings, organizationOf(request)),
    );

    app.delete(
      '/api/organizations/sso',
      { config: { policy: 'Admin' }, schema: { ...docs.deleteConnection } },
      async (request) => {
        await removeConnection(db, settings, organizationOf(request), requestChange(request));
        return { success: true as const };
      },
    );

    app.post(
      '/api/organizations/sso/setup-links',
      { config: { policy: 'Admin' }, schema: { ...docs.createSetupLink, body: CreateSetupLinkBody } },
      async (request, reply) => {
        const link = await createSetupLink(
          db,
          settings,
          organizationOf(request),
          request.body.expiresInHours ?? SETUP_LINK_DEFAULT_HOURS,
          requestChange(request),
        );
        return reply.code(201).send(link);
      },
    );

    app.post(
      '/api/organizations/sso/test',
      { config: { policy: 'Admin' }, schema: { ...docs.startTestSignIn, body: StartTestSignInBody } },
      async (request, reply) =>
        reply.code(201).send(await startTestSignIn(db, settings, organizationOf(request))),
    );
  };
}
