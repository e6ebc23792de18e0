// The OpenAPI documentation of the enterprise connection routes: summaries, descriptions, responses, examples.
import { errorResponses, jsonResponse } from '../routing/route-schema.js';
import { RemovedConnection, SsoConnection } from './schemas.js';

const tags = ['Single sign-on'];
const adminOnly = "Policy: Admin of the token's organization.";
const kinde =
  'With an external identity provider (AUTH_JWKS_URL, e.g. Kinde) connections are that provider\u2019s: 409 `sso-managed-externally`.';
const EXAMPLE = {
  protocol: 'oidc' as const,
  issuer: 'https://acme.okta.com',
  clientId: '0oa1b2c3d4e5f6g7h8i9',
  domains: ['acme.example'],
  passwordSignIn: false,
  redirectUri: 'https://salesreps.example.com/signin/sso/callback',
  spEntityId: 'https://salesreps.example.com/signin/sso/saml/Kx8mQ2pLr5TnW7yZ/metadata',
  acsUrl: 'https://salesreps.example.com/signin/sso/saml/Kx8mQ2pLr5TnW7yZ/acs',
  spMetadataUrl: 'https://salesreps.example.com/signin/sso/saml/Kx8mQ2pLr5TnW7yZ/metadata',
  createdAt: '2026-12-01T09:15:00.000Z',
  updatedAt: '2026-12-01T09:15:00.000Z',
};

export const ssoDocs = {
  putConnection: {
    tags,
    operationId: 'putSsoConnection',
    summary: "Set the organization's single sign-on connection",
    description:
      `${adminOnly} Replaces any earlier connection. OpenID Connect: the issuer's discovery document is fetched ` +
      'and checked now (https on the internet; 400 naming `issuer` when it cannot be used); the client secret is ' +
      'stored encrypted and never shown again. SAML 2.0: the IdP\u2019s metadata, as `metadataXml` or fetched now from ' +
      '`metadataUrl` (https on the internet), must name its entity ID, an HTTP-Redirect sign-on URL and a signing ' +
      'certificate (400 naming the field otherwise); register `spEntityId` and `acsUrl` (or `spMetadataUrl`) at ' +
      'the IdP. From then on an authorization request with the organization\u2019s ' +
      '`org_code`, and an email of one of `domains` on the sign-in page, go to this IdP; password sign-in for the ' +
      `organization is off unless \`passwordSignIn\` is true. 409 \`sso-domain-taken\` for a domain another organization's connection serves. ${kinde}`,
    response: {
      200: jsonResponse('The connection, as GET shows it.', SsoConnection, EXAMPLE),
      ...errorResponses(400, 401, 403, 409, 413, 415),
    },
  },

  getConnection: {
    tags,
    operationId: 'getSsoConnection',
    summary: "The organization's single sign-on connection (never its secret)",
    description: `${adminOnly} With the values to register at the IdP. 404 when there is none. ${kinde}`,
    response: {
      200: jsonResponse('The connection.', SsoConnection, EXAMPLE),
      ...errorResponses(401, 403, 404, 409),
    },
  },

  deleteConnection: {
    tags,
    operationId: 'deleteSsoConnection',
    summary: "Remove the organization's single sign-on connection",
    description: `${adminOnly} Its people sign in with a password again. 404 when there is none. ${kinde}`,
    response: {
      200: jsonResponse('The connection is gone.', RemovedConnection, { success: true }),
      ...errorResponses(401, 403, 404, 409),
    },
  },
};
