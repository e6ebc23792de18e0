// The OpenAPI documentation of the enterprise connection routes: summaries, descriptions, responses, examples.
import { errorResponses, jsonResponse } from '../routing/route-schema.js';
import { RemovedConnection, SetupLink, SsoConnection, TestSignIn } from './schemas.js';

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

  createSetupLink: {
    tags,
    operationId: 'createSsoSetupLink',
    summary: 'Create a single-use setup link for an IT admin',
    description:
      `${adminOnly} A page, for someone without an account (the organization\u2019s IT admin), that shows the values ` +
      'to register at the IdP and takes the connection (OpenID Connect or SAML, domains, passwordSignIn) with the ' +
      'same checks as PUT, then offers a test sign-in. The URL is shown only in this answer (only a hash of it is ' +
      'kept); the link works until `expiresAt` and until a connection is saved through it. A new link voids the ' +
      "organization's earlier unused ones. Recorded as `sso.setup_link_created`; a connection saved through the " +
      `link is \`sso.connection_updated\` with the actor \`setup-link:<id>\`. ${kinde}`,
    response: {
      201: jsonResponse('The link, shown once.', SetupLink, {
        url: 'https://salesreps.example.com/sso/setup/q2Vx0mE1b4PpZk9sT7yRw3uLc8NdHa6JfGiYtKo5Be0',
        expiresAt: '2026-12-02T09:15:00.000Z',
      }),
      ...errorResponses(400, 401, 403, 409, 415),
    },
  },

  startTestSignIn: {
    tags,
    operationId: 'startSsoTestSignIn',
    summary: "Start a test sign-in at the organization's IdP",
    description:
      `${adminOnly} Answers a URL to open in the browser: one round trip to the IdP (OpenID Connect or SAML), whose ` +
      'answer is checked as a sign-in\u2019s and shown on a page: the ID token\u2019s claims or the assertion\u2019s NameID ' +
      'and attributes (never a token), and whom of the organization it would sign in, or why not. No code is ' +
      'issued, no session made, no IdP subject remembered. Single use, for 10 minutes. 404 when the organization ' +
      `has no connection; 503 when the IdP's discovery cannot be used now. ${kinde}`,
    response: {
      201: jsonResponse('Where the browser goes.', TestSignIn, {
        url: 'https://acme.okta.com/oauth2/v1/authorize?client_id=0oa1b2c3d4e5f6g7h8i9&response_type=code&scope=openid+email&state=…',
      }),
      ...errorResponses(400, 401, 403, 404, 409, 415, 503),
    },
  },
};
