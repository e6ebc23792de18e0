// The route of the caller's organization: what an Admin's token is for, by name.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requireAuth } from '../auth/policies.js';
import { currentOrganizationDocs as docs } from './openapi.js';
import type { CurrentOrganization } from './schemas.js';

/** GET /api/organizations/current: the organization the auth hook found for the token, read once already. */
export function currentOrganizationRoutes(): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/organizations/current',
      { config: { policy: 'Admin' }, schema: docs.getCurrentOrganization },
      async (request): Promise<CurrentOrganization> => {
        const { organization } = requireAuth(request);
        return {
          organizationId: organization.id,
          organizationName: organization.name,
          identityOrganizationId: organization.identity_organization_id,
        };
      },
    );
  };
}
