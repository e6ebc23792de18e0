// The OpenAPI documentation of the SCIM token routes (the SCIM protocol itself is described by its /Schemas).
import { errorResponses, jsonResponse } from '../routing/route-schema.js';
import { CreatedScimToken, RevokedScimToken, ScimTokenList } from './schemas.js';

const tags = ['SCIM'];
const adminOnly = "Policy: Admin of the token's organization.";
const EXAMPLE_ID = 'Sc3kLm9QwErTyUiOp1AsDf';

export const scimTokenDocs = {
  createScimToken: {
    tags,
    operationId: 'createScimToken',
    summary: "Create a SCIM token for the organization's directory",
    description:
      `${adminOnly} The directory (Okta, Microsoft Entra ID, …) provisions the organization's reps at ` +
      '`PUBLIC_URL/scim/v2` with this token as its bearer token (docs/scim.md). The token is shown only here; ' +
      'only its hash is kept.',
    response: {
      201: jsonResponse('The token, with its secret (shown only here).', CreatedScimToken, {
        id: EXAMPLE_ID,
        description: 'Okta production',
        token: 'scim_4q1b6T0yXk3m2Jd8vQe9ZrW5sLpN7hGcA1uF0oIiYt',
        createdAt: '2026-12-01T09:15:00.000Z',
      }),
      ...errorResponses(400, 401, 403, 409, 413, 415),
    },
  },

  listScimTokens: {
    tags,
    operationId: 'listScimTokens',
    summary: "The organization's SCIM tokens (never their secrets)",
    description:
      `${adminOnly} Oldest first; each with the last request the directory made with it and its outcome ` +
      '(the path without query values).',
    response: {
      200: jsonResponse('The tokens.', ScimTokenList, [
        {
          id: EXAMPLE_ID,
          description: 'Okta production',
          createdAt: '2026-12-01T09:15:00.000Z',
          lastUsedAt: '2026-12-02T08:00:12.000Z',
          lastRequest: {
            at: '2026-12-02T08:00:12.000Z',
            method: 'POST',
            path: '/Users',
            status: 409,
            scimType: 'uniqueness',
            detail: 'That employeeNumber is already used in this organization.',
          },
        },
      ]),
      ...errorResponses(401, 403),
    },
  },

  revokeScimToken: {
    tags,
    operationId: 'revokeScimToken',
    summary: 'Revoke a SCIM token',
    description: `${adminOnly} The directory's next request with it is refused (401).`,
    response: {
      200: jsonResponse('The token is revoked.', RevokedScimToken, { success: true }),
      ...errorResponses(400, 401, 403, 404),
    },
  },
};
