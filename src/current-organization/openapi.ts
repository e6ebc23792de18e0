// The OpenAPI documentation of the caller's organization: the operation's summary, description and example.
import { errorResponses, jsonResponse } from '../routing/route-schema.js';
import { CurrentOrganization } from './schemas.js';

export const currentOrganizationDocs = {
  getCurrentOrganization: {
    tags: ['Organizations'],
    operationId: 'getCurrentOrganization',
    summary: "The caller's organization",
    description:
      "Policy: Admin of the token's organization. The organization the token is for, by name and ids (the " +
      "console's header names it).",
    response: {
      200: jsonResponse("The token's organization.", CurrentOrganization, {
        organizationId: '34ku8ni238sdin0n23cdm6',
        organizationName: 'Acme Supply',
        identityOrganizationId: 'org_acme',
      }),
      ...errorResponses(401, 403),
    },
  },
};
