// The admin's enterprise connection routes: PUT, GET and DELETE /api/organizations/sso.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { requireAuth } from '../auth/policies.js';
import type { Db } from '../db/database.js';
import { requestChange } from '../events/record.js';
import { ssoDocs as docs } from './openapi.js';
import { PutConnectionBody } from './schemas.js';
import { putConnection, removeConnection, type SsoSettings, showConnection } from './service.js';

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
  };
}
