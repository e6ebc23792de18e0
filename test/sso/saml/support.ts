// A SAML identity provider for the tests: samlify in its IdP role, with its own keys, answering as Entra ID does.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { DOMParser, type Document, type Element, onErrorStopParsing, XMLSerializer } from '@xmldom/xmldom';

/*
 * samlify is loaded through require and given the few types the tests use: its own type declarations pull in an
 * XML parser's that add the browser's DOM types to the whole program, which the service's code must not see.
 */
const require = createRequire(import.meta.url);

type Binding = 'redirect' | 'post';

interface SamlifyServiceProvider {
  entityMeta: {
    getEntityID(): string;
    getAssertionConsumerService(binding: Binding): string | string[];
    isWantAssertionsSigned(): boolean;
  };
}

interface SamlifyLoginRequest {
  extract: {
    request: { id: string; destination?: string; assertionConsumerServiceUrl?: string };
    issuer?: string;
  };
}

interface SamlifyIdentityProvider {
  getMetadata(): string;
  parseLoginRequest(
    sp: SamlifyServiceProvider,
    binding: Binding,
    request: { query: Record<string, string> },
  ): Promise<SamlifyLoginRequest>;
  createLoginResponse(
    sp: SamlifyServiceProvider,
    requestInfo: SamlifyLoginRequest | Record<string, never>,
    binding: Binding,
    user: { email: string },
    options: { customTagReplacement: (template: string) => { id: string; context: string } },
  ): Promise<{ id: string; context: string }>;
}

interface Samlify {
  IdentityProvider(settings: Record<string, unknown>): SamlifyIdentityProvider;
  ServiceProvider(settings: Record<string, unknown>): SamlifyServiceProvider;
  setSchemaValidator(validator: { validate: (xml: string) => Promise<unknown> }): void;
  Constants: { namespace: { binding: { redirect: string; post: string } } };
}

const samlify = require('samlify') as Samlify;
/*
 * samlify reads a message only once a validator has passed it. The SAML schema validators it offers run libxml2
 * compiled to WebAssembly, which adds a process-wide listener per call; this one refuses what is not well-formed
 * XML, or declares a document type, and leaves the SAML shape to samlify's own reading.
 */
samlify.setSchemaValidator({
  validate: async (xml: string) => {
    const document = new DOMParser({ onError: onErrorStopParsing }).parseFromString(xml, 'text/xml');
    if (document.doctype) throw new Error('a document type declaration is not accepted');
    return 'well-formed';
  },
});

const fixture = (name: string) =>
  fs.readFileSync(new URL(`../../fixtures/saml/${name}`, import.meta.url), 'utf8');

/** A test key pair of test/fixtures/saml/ (README there). */
export const IDP_KEYS = {
  entra: { privateKey: fixture('entra-idp.key.pem'), certificate: fixture('entra-idp.cert.pem') },
  other: { privateKey: fixture('other-idp.key.pem'), certificate: fixture('other-idp.cert.pem') },
};

const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
const EMAIL_FORMAT = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';

/** The claims Entra ID sends by default for a user (the names it gives them). */
export function entraClaims(user: {
  email: string;
  givenName: string;
  surname: string;
}): Record<string, string[]> {
  return {
    'http://schemas.microsoft.com/identity/claims/tenantid': ['8f1c3c4e-1f7a-4a4e-9c55-0d1f3b0b7a11'],
    'http://schemas.microsoft.com/identity/claims/objectidentifier': [randomUUID()],
    'http://schemas.microsoft.com/identity/claims/displayname': [`${user.givenName} ${user.surname}`],
    'http://schemas.microsoft.com/identity/claims/identityprovider': [
      'https://sts.windows.net/8f1c3c4e-1f7a-4a4e-9c55-0d1f3b0b7a11/',
    ],
    'http://schemas.microsoft.com/claims/authnmethodsreferences': [
      'http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password',
      'http://schemas.microsoft.com/claims/multipleauthn',
    ],
    'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname': [user.givenName],
    'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname': [user.surname],
    'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress': [user.email],
    'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name': [user.email],
  };
}

/** What a response says; each field defaults to what Entra ID would send in answer to the request. */
export interface ResponseFields {
  /** The request answered (the Response's and the bearer confirmation's InResponseTo); null for IdP-initiated. */
  inResponseTo: string | null;
  nameId: string;
  nameIdFormat?: string;
  attributes?: Record<string, string[]>;
  issuer?: string;
  audience?: string;
  destination?: string;
  recipient?: string;
  subjectInResponseTo?: string | null;
  assertionId?: string;
  /** When the IdP says it issued the assertion; the window opens then and shuts `lifetimeMs` later. */
  issuedAt?: Date;
  lifetimeMs?: number;
  statusCode?: string;
}

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const attribute = (name: string, value: string | null | undefined) =>
  value === null || value === undefined ? '' : ` ${name}="${escapeXml(value)}"`;

/** A Response shaped as Entra ID's (default namespace on the assertion, claims as attributes), unsigned. */
function entraResponseXml(
  fields: Required<Omit<ResponseFields, 'inResponseTo' | 'subjectInResponseTo'>> & {
    inResponseTo: string | null;
    subjectInResponseTo: string | null;
    responseId: string;
  },
): string {
  const issued = fields.issuedAt.toISOString();
  const until = new Date(fields.issuedAt.getTime() + fields.lifetimeMs).toISOString();
  const attributes = Object.entries(fields.attributes)
    .map(
      ([name, values]) =>
        `<Attribute Name="${escapeXml(name)}">${values
          .map((value) => `<AttributeValue>${escapeXml(value)}</AttributeValue>`)
          .join('')}</Attribute>`,
    )
    .join('');
  return (
    `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="${fields.responseId}" Version="2.0" ` +
    `IssueInstant="${issued}"${attribute('Destination', fields.destination)}${attribute('InResponseTo', fields.inResponseTo)}>` +
    `<Issuer xmlns="urn:oasis:names:tc:SAML:2.0:assertion">${escapeXml(fields.issuer)}</Issuer>` +
    `<samlp:Status><samlp:StatusCode Value="${fields.statusCode}"/></samlp:Status>` +
    `<Assertion xmlns="urn:oasis:names:tc:SAML:2.0:assertion" ID="${fields.assertionId}" IssueInstant="${issued}" Version="2.0">` +
    `<Issuer>${escapeXml(fields.issuer)}</Issuer>` +
    `<Subject><NameID Format="${fields.nameIdFormat}">${escapeXml(fields.nameId)}</NameID>` +
    `<SubjectConfirmation Method="${BEARER}"><SubjectConfirmationData${attribute('InResponseTo', fields.subjectInResponseTo)} ` +
    `NotOnOrAfter="${until}" Recipient="${escapeXml(fields.recipient)}"/></SubjectConfirmation></Subject>` +
    `<Conditions NotBefore="${issued}" NotOnOrAfter="${until}"><AudienceRestriction><Audience>${escapeXml(fields.audience)}</Audience></AudienceRestriction></Conditions>` +
    (attributes ? `<AttributeStatement>${attributes}</AttributeStatement>` : '') +
    `<AuthnStatement AuthnInstant="${issued}" SessionIndex="_${randomUUID()}"><AuthnContext>` +
    `<AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:Password</AuthnContextClassRef></AuthnContext></AuthnStatement>` +
    `</Assertion></samlp:Response>`
  );
}

/** Which parts of a response samlify signs: as Entra ID's default (the assertion), the response, or both. */
export type Signing = 'assertion' | 'response' | 'both';

/** A samlify identity provider playing an organization's Entra ID tenant, with its own keys. */
export function testIdp(options: {
  entityId: string;
  ssoUrl: string;
  keys: { privateKey: string; certificate: string };
}) {
  const idp = samlify.IdentityProvider({
    entityID: options.entityId,
    privateKey: options.keys.privateKey,
    signingCert: options.keys.certificate,
    singleSignOnService: [
      { Binding: samlify.Constants.namespace.binding.redirect, Location: options.ssoUrl },
      { Binding: samlify.Constants.namespace.binding.post, Location: options.ssoUrl },
    ],
    nameIDFormat: [EMAIL_FORMAT],
    requestSignatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    wantAuthnRequestsSigned: false,
  });

  /** samlify's view of the service provider: from the SP metadata, or told how responses are to be signed. */
  function serviceProvider(
    sp: { metadata: string } | { entityId: string; acsUrl: string; signing: Signing },
  ) {
    if ('metadata' in sp) return samlify.ServiceProvider({ metadata: sp.metadata });
    return samlify.ServiceProvider({
      entityID: sp.entityId,
      assertionConsumerService: [{ Binding: samlify.Constants.namespace.binding.post, Location: sp.acsUrl }],
      wantAssertionsSigned: sp.signing !== 'response',
      wantMessageSigned: sp.signing !== 'assertion',
    });
  }

  return {
    /** The IdP metadata samlify publishes (what an admin downloads from Entra ID). */
    metadata: () => idp.getMetadata(),
    serviceProvider,
    /** The IdP reads the AuthnRequest from the redirect URL, as the browser brings it. */
    readRequest: (sp: SamlifyServiceProvider, redirectUrl: string) =>
      idp.parseLoginRequest(sp, 'redirect', {
        query: Object.fromEntries(new URL(redirectUrl).searchParams),
      }),
    /** A base64 SAMLResponse for the HTTP-POST binding, signed by samlify with this IdP's key. */
    async respond(sp: SamlifyServiceProvider, fields: ResponseFields): Promise<string> {
      const acs = sp.entityMeta.getAssertionConsumerService('post');
      const acsUrl = Array.isArray(acs) ? (acs[0] as string) : acs;
      const xml = entraResponseXml({
        responseId: `_${randomUUID()}`,
        assertionId: fields.assertionId ?? `_${randomUUID()}`,
        issuer: fields.issuer ?? options.entityId,
        audience: fields.audience ?? sp.entityMeta.getEntityID(),
        destination: fields.destination ?? acsUrl,
        recipient: fields.recipient ?? acsUrl,
        inResponseTo: fields.inResponseTo,
        subjectInResponseTo:
          fields.subjectInResponseTo === undefined ? fields.inResponseTo : fields.subjectInResponseTo,
        nameId: fields.nameId,
        nameIdFormat: fields.nameIdFormat ?? EMAIL_FORMAT,
        attributes: fields.attributes ?? {},
        issuedAt: fields.issuedAt ?? new Date(),
        lifetimeMs: fields.lifetimeMs ?? 60 * 60 * 1000,
        statusCode: fields.statusCode ?? SUCCESS,
      });
      const { context } = await idp.createLoginResponse(
        sp,
        {},
        'post',
        { email: fields.nameId },
        {
          customTagReplacement: () => ({ id: 'unused', context: xml }),
        },
      );
      return context;
    },
    /** The same response as `respond` would sign, but unsigned: what an attacker without the key can make. */
    unsigned(sp: SamlifyServiceProvider, fields: ResponseFields): Promise<string> {
      return this.respond(sp, fields).then((signed) => stripSignatures(signed));
    },
  };
}

const XMLDSIG = 'http://www.w3.org/2000/09/xmldsig#';
const ASSERTION = 'urn:oasis:names:tc:SAML:2.0:assertion';

/** Changes a base64 SAMLResponse as a DOM, and answers it base64 again. */
export function editResponse(base64: string, edit: (response: Element, document: Document) => void): string {
  const document = new DOMParser().parseFromString(
    Buffer.from(base64, 'base64').toString('utf8'),
    'text/xml',
  );
  const response = document.documentElement as Element;
  edit(response, document);
  return Buffer.from(new XMLSerializer().serializeToString(document)).toString('base64');
}

/** A response with every XML signature taken out (the XML otherwise as signed). */
function stripSignatures(base64: string): string {
  return editResponse(base64, (response) => {
    for (const signature of Array.from(response.getElementsByTagNameNS(XMLDSIG, 'Signature'))) {
      signature.parentNode?.removeChild(signature);
    }
  });
}

/** The first assertion of a response's DOM. */
export function assertionOf(response: Element): Element {
  return response.getElementsByTagNameNS(ASSERTION, 'Assertion')[0] as Element;
}

/** Sets the text of the first element of the assertion namespace with this local name under `element`. */
export function setText(element: Element, localName: string, text: string): void {
  const target = element.getElementsByTagNameNS(ASSERTION, localName)[0] as Element;
  target.textContent = text;
}
