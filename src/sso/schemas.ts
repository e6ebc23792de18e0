// The enterprise connection routes' TypeBox schemas: the OpenID Connect and SAML connection bodies, the view.
import { type Static, Type } from '@sinclair/typebox';

const SSO_LIMITS = {
  domains: 50,
  urlLength: 2000,
  clientIdLength: 500,
  secretLength: 2000,
  metadataLength: 1_000_000,
} as const;

const Domain = Type.String({
  minLength: 3,
  maxLength: 253,
  pattern: '^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]{2,63}$',
  description: 'An email domain (`example.com`), compared without regard to letter case.',
});

const Domains = Type.Array(Domain, {
  maxItems: SSO_LIMITS.domains,
  description:
    "The email domains whose people the sign-in page sends to this IdP. A domain is served by one organization only (409). A domain only routes an email to the IdP: a person is linked by the IdP's verified email.",
});

const PasswordSignIn = Type.Boolean({
  description:
    "Whether the organization's people may still sign in with a password (default false: only through the IdP).",
});

export const PutOidcConnectionBody = Type.Object(
  {
    protocol: Type.Literal('oidc'),
    issuer: Type.String({
      minLength: 1,
      maxLength: SSO_LIMITS.urlLength,
      description:
        "The IdP's issuer, whose `/.well-known/openid-configuration` is fetched and checked now: https on the internet.",
    }),
    clientId: Type.String({ minLength: 1, maxLength: SSO_LIMITS.clientIdLength }),
    clientSecret: Type.String({
      minLength: 1,
      maxLength: SSO_LIMITS.secretLength,
      description: 'Stored encrypted; never shown again.',
    }),
    domains: Domains,
    passwordSignIn: Type.Optional(PasswordSignIn),
  },
  {
    additionalProperties: false,
    examples: [
      {
        protocol: 'oidc',
        issuer: 'https://acme.okta.com',
        clientId: '0oa1b2c3d4e5f6g7h8i9',
        clientSecret: 'an-okta-client-secret',
        domains: ['acme.example'],
        passwordSignIn: false,
      },
    ],
  },
);
export type PutOidcConnectionBody = Static<typeof PutOidcConnectionBody>;

const SAML_EXAMPLE = { protocol: 'saml', domains: ['acme.example'], passwordSignIn: false } as const;

const PutSamlMetadataXmlBody = Type.Object(
  {
    protocol: Type.Literal('saml'),
    metadataXml: Type.String({
      minLength: 1,
      maxLength: SSO_LIMITS.metadataLength,
      description:
        'The IdP\'s SAML metadata XML (Entra ID\'s "Federation Metadata XML"): its entity ID, HTTP-Redirect sign-on URL and signing certificates are kept.',
    }),
    domains: Domains,
    passwordSignIn: Type.Optional(PasswordSignIn),
  },
  {
    additionalProperties: false,
    examples: [{ ...SAML_EXAMPLE, metadataXml: '<EntityDescriptor entityID="https://sts.windows.net/…/">…' }],
  },
);

const PutSamlMetadataUrlBody = Type.Object(
  {
    protocol: Type.Literal('saml'),
    metadataUrl: Type.String({
      minLength: 1,
      maxLength: SSO_LIMITS.urlLength,
      description:
        "Where the IdP publishes its SAML metadata, fetched now (https on the internet), and again every 6 hours and when a response is signed by a key not yet seen, so the IdP's certificate rollovers need nothing here.",
    }),
    domains: Domains,
    passwordSignIn: Type.Optional(PasswordSignIn),
  },
  {
    additionalProperties: false,
    examples: [
      {
        ...SAML_EXAMPLE,
        metadataUrl:
          'https://login.microsoftonline.com/8f1c3c4e-1f7a-4a4e-9c55-0d1f3b0b7a11/federationmetadata/2007-06/federationmetadata.xml?appid=1b2c3d4e',
      },
    ],
  },
);

export type PutSamlConnectionBody =
  | Static<typeof PutSamlMetadataXmlBody>
  | Static<typeof PutSamlMetadataUrlBody>;

/** PUT /api/organizations/sso: one of the protocols' bodies. */
export const PutConnectionBody = Type.Union(
  [PutOidcConnectionBody, PutSamlMetadataXmlBody, PutSamlMetadataUrlBody],
  { examples: PutOidcConnectionBody.examples },
);
export type PutConnectionBody = Static<typeof PutConnectionBody>;

export const SsoConnection = Type.Object(
  {
    protocol: Type.Union([Type.Literal('oidc'), Type.Literal('saml')]),
    issuer: Type.Optional(Type.String({ maxLength: SSO_LIMITS.urlLength, description: 'OpenID Connect.' })),
    idpEntityId: Type.Optional(Type.String({ maxLength: SSO_LIMITS.urlLength, description: 'SAML.' })),
    clientId: Type.Optional(
      Type.String({ maxLength: SSO_LIMITS.clientIdLength, description: 'OpenID Connect.' }),
    ),
    domains: Type.Array(Type.String({ maxLength: 253 }), { maxItems: SSO_LIMITS.domains }),
    passwordSignIn: Type.Boolean(),
    redirectUri: Type.String({
      maxLength: SSO_LIMITS.urlLength,
      description: 'OpenID Connect: the redirect (callback) URI to register at the IdP.',
    }),
    spEntityId: Type.String({
      maxLength: SSO_LIMITS.urlLength,
      description: "SAML: the service's entity ID.",
    }),
    acsUrl: Type.String({
      maxLength: SSO_LIMITS.urlLength,
      description: 'SAML: the assertion consumer service URL.',
    }),
    spMetadataUrl: Type.String({
      maxLength: SSO_LIMITS.urlLength,
      description: "SAML: the service's metadata.",
    }),
    createdAt: Type.String({ format: 'date-time', maxLength: 40 }),
    updatedAt: Type.String({ format: 'date-time', maxLength: 40 }),
  },
  { additionalProperties: false },
);
export type SsoConnection = Static<typeof SsoConnection>;

export const RemovedConnection = Type.Object(
  { success: Type.Literal(true) },
  { additionalProperties: false },
);

export const CreateSetupLinkBody = Type.Object(
  {
    expiresInHours: Type.Optional(
      Type.Integer({
        format: 'int32',
        minimum: 1,
        maximum: 168,
        default: 24,
        description: 'How long the link works, in hours (default 24, at most a week).',
      }),
    ),
  },
  { additionalProperties: false, examples: [{ expiresInHours: 24 }] },
);

export const SetupLink = Type.Object(
  {
    url: Type.String({
      maxLength: SSO_LIMITS.urlLength,
      description: 'The setup page, shown only here: give it to the IT admin who sets up the IdP.',
    }),
    expiresAt: Type.String({ format: 'date-time', maxLength: 40 }),
  },
  { additionalProperties: false },
);

export const StartTestSignInBody = Type.Object({}, { additionalProperties: false, examples: [{}] });

export const TestSignIn = Type.Object(
  {
    url: Type.String({
      maxLength: 16_000,
      description:
        "Open it in the browser: it goes to the organization's IdP once, and the answer comes back to a page that shows what the IdP sent and whom it would sign in. Single use, for 10 minutes.",
    }),
  },
  { additionalProperties: false },
);
