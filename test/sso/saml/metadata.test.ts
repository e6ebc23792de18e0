import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fetchIdpMetadata,
  parseIdpMetadata,
  SamlMetadataError,
  serviceProviderMetadata,
} from '../../../src/sso/saml/index.js';
import { IDP_KEYS, testIdp } from './support.js';

const TENANT = '8f1c3c4e-1f7a-4a4e-9c55-0d1f3b0b7a11';
const base64Of = (pem: string) => pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
const ENTRA_CERT = base64Of(IDP_KEYS.entra.certificate);
const OTHER_CERT = base64Of(IDP_KEYS.other.certificate);

/**
 * Federation metadata shaped as Entra ID publishes it: signed, a WS-Federation role (with its own key) before the
 * SAML IdP role, and the IdP role with a current and a next signing certificate.
 */
const entraFederationMetadata = `<?xml version="1.0" encoding="utf-8"?>
<EntityDescriptor ID="_b1a8c5b0-0d8e-4f4e-8f5c-3c8f2a1d9e11" entityID="https://sts.windows.net/${TENANT}/" xmlns="urn:oasis:names:tc:SAML:2.0:metadata">
  <Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo><CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></SignedInfo></Signature>
  <RoleDescriptor xsi:type="fed:SecurityTokenServiceType" protocolSupportEnumeration="http://docs.oasis-open.org/wsfed/federation/200706" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:fed="http://docs.oasis-open.org/wsfed/federation/200706">
    <KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>${OTHER_CERT}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
    <fed:PassiveRequestorEndpoint><EndpointReference xmlns="http://www.w3.org/2005/08/addressing"><Address>https://login.microsoftonline.com/${TENANT}/wsfed</Address></EndpointReference></fed:PassiveRequestorEndpoint>
  </RoleDescriptor>
  <IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>
      ${ENTRA_CERT.replace(/(.{64})/g, '$1\n      ')}
    </X509Certificate></X509Data></KeyInfo></KeyDescriptor>
    <KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>${OTHER_CERT}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
    <KeyDescriptor use="encryption"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>MIIBnotacertificate</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
    <SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://login.microsoftonline.com/${TENANT}/saml2"/>
    <SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://login.microsoftonline.com/${TENANT}/saml2"/>
    <SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://login.microsoftonline.com/${TENANT}/saml2"/>
  </IDPSSODescriptor>
</EntityDescriptor>`;

/** The plain message parseIdpMetadata refuses `xml` with. */
function refusalOf(xml: string): string {
  try {
    parseIdpMetadata(xml);
  } catch (error) {
    if (error instanceof SamlMetadataError) return error.message;
    throw error;
  }
  throw new Error('the metadata was accepted');
}

describe('IdP metadata', () => {
  it("reads Entra ID's federation metadata: the IdP's entity id, its redirect sign-on URL, and each signing key", () => {
    expect(parseIdpMetadata(entraFederationMetadata)).toEqual({
      entityId: `https://sts.windows.net/${TENANT}/`,
      ssoUrl: `https://login.microsoftonline.com/${TENANT}/saml2`,
      signingCertificates: [ENTRA_CERT, OTHER_CERT],
    });
  });

  it('reads the metadata another SAML implementation (samlify) publishes for its IdP', () => {
    const idp = testIdp({
      entityId: 'https://idp.example.org/saml',
      ssoUrl: 'https://idp.example.org/sso',
      keys: IDP_KEYS.entra,
    });
    expect(parseIdpMetadata(idp.metadata())).toEqual({
      entityId: 'https://idp.example.org/saml',
      ssoUrl: 'https://idp.example.org/sso',
      signingCertificates: [ENTRA_CERT],
    });
  });

  it('refuses what is not XML, or not SAML metadata, with a plain message', () => {
    expect(refusalOf('{"issuer": "https://login.example.com"}')).toBe('the metadata is not well-formed XML');
    expect(
      refusalOf('<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata"><oops></EntityDescriptor>'),
    ).toBe('the metadata is not well-formed XML');
    expect(refusalOf('<html><body>Sign in</body></html>')).toBe(
      'the metadata describes no SAML identity provider (IDPSSODescriptor)',
    );
  });

  it('refuses a document type declaration, so no entity is ever expanded', () => {
    const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
      ${entraFederationMetadata.replace('<?xml version="1.0" encoding="utf-8"?>', '').replace(TENANT, '&lol2;')}`;
    expect(refusalOf(laughs)).toMatch(/document type declaration|not well-formed/);
  });

  it('refuses metadata without a signing certificate, or with one that is not X.509', () => {
    const withoutKeys = entraFederationMetadata.replace(
      /<IDPSSODescriptor([^>]*)>[\s\S]*?<SingleLogoutService/,
      '<IDPSSODescriptor$1><SingleLogoutService',
    );
    expect(refusalOf(withoutKeys)).toBe('the identity provider has no signing certificate');
    expect(refusalOf(entraFederationMetadata.replaceAll(OTHER_CERT, 'bm90IGEgY2VydGlmaWNhdGU='))).toBe(
      'a signing certificate of the identity provider is not a valid X.509 certificate',
    );
  });

  it('refuses metadata without an HTTP-Redirect sign-on service, or with a sign-on URL that is not http(s)', () => {
    const postOnly = entraFederationMetadata.replace(
      /<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"[^>]*\/>/,
      '',
    );
    expect(refusalOf(postOnly)).toBe('the identity provider has no HTTP-Redirect single sign-on service');
    const script = entraFederationMetadata.replace(
      /(<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location=")[^"]*/,
      '$1javascript:alert(1)',
    );
    expect(refusalOf(script)).toBe('the single sign-on service location must be an http or https URL');
  });
});

describe('the service provider metadata', () => {
  it('is read by another SAML implementation (samlify) as an SP: its entity id, its ACS URL, signed assertions wanted', () => {
    const sp = {
      entityId: 'https://reps.example.com/signin/sso/saml/sso_1/metadata',
      acsUrl: 'https://reps.example.com/signin/sso/saml/sso_1/acs',
    };
    const idp = testIdp({
      entityId: 'https://idp.example.org',
      ssoUrl: 'https://idp.example.org/sso',
      keys: IDP_KEYS.entra,
    });
    const read = idp.serviceProvider({ metadata: serviceProviderMetadata(sp) });
    expect(read.entityMeta.getEntityID()).toBe(sp.entityId);
    expect(read.entityMeta.getAssertionConsumerService('post')).toBe(sp.acsUrl);
    expect(read.entityMeta.isWantAssertionsSigned()).toBe(true);
  });
});

describe('fetching IdP metadata', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url === '/metadata') {
        response.setHeader('content-type', 'application/samlmetadata+xml');
        response.end(entraFederationMetadata);
      } else if (request.url === '/huge') {
        response.end(Buffer.alloc(2 * 1024 * 1024, 'a'));
      } else if (request.url === '/moved') {
        response.statusCode = 302;
        response.setHeader('location', '/metadata');
        response.end();
      } else {
        response.statusCode = 404;
        response.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const fetchRefusal = (url: string, allowPrivateNetworks: boolean) =>
    fetchIdpMetadata(url, { allowPrivateNetworks }).then(
      () => 'fetched',
      (error: unknown) =>
        error instanceof SamlMetadataError ? error.message : `unexpected: ${String(error)}`,
    );

  it('fetches metadata from a private address only when private networks are allowed', async () => {
    expect(
      parseIdpMetadata(await fetchIdpMetadata(`${base}/metadata`, { allowPrivateNetworks: true })).entityId,
    ).toBe(`https://sts.windows.net/${TENANT}/`);
  });

  it('refuses a URL that is not https, or points to a loopback, private or link-local address', async () => {
    expect(await fetchRefusal(`${base}/metadata`, false)).toBe('the metadata URL must use https');
    expect(await fetchRefusal('https://127.0.0.1/metadata', false)).toBe(
      'the metadata URL must not point to a loopback, private or link-local address',
    );
    expect(await fetchRefusal('https://169.254.169.254/latest/meta-data', false)).toBe(
      'the metadata URL must not point to a loopback, private or link-local address',
    );
    expect(await fetchRefusal('https://localhost/metadata', false)).toBe(
      'the metadata URL must name a host on the internet',
    );
  });

  it('reads no more than the size bound, follows no redirect, and says when the answer is not metadata', async () => {
    expect(await fetchRefusal(`${base}/huge`, true)).toBe('the metadata is larger than 1 MiB');
    expect(await fetchRefusal(`${base}/moved`, true)).toBe(
      'the metadata URL answered HTTP 302 (redirects are not followed)',
    );
    expect(await fetchRefusal(`${base}/missing`, true)).toBe('the metadata URL answered HTTP 404');
  });
});
