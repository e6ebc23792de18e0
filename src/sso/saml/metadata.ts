// SAML metadata: the IdP's read (parsed, or fetched through the SSRF guard) and the service provider's written.
import { X509Certificate } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Element } from '@xmldom/xmldom';
import { ForbiddenAddressError, guardedLookup, urlProblem } from '../../webhooks/address-guard.js';
import { nodeSaml } from './node-saml.js';
import { childElements, descendants, parseXml, SAML_NAMESPACES } from './xml.js';

/** What the service needs of an identity provider: who it is, where to send the browser, the keys it signs with. */
export interface SamlIdp {
  entityId: string;
  ssoUrl: string;
  /** PEM or base64 DER (as metadata carries them); any of them may sign. */
  signingCertificates: string[];
}

/** This service as a connection's service provider: its entity id and its assertion consumer service (ACS). */
export interface SamlServiceProvider {
  entityId: string;
  acsUrl: string;
}

/** Metadata that cannot be used; its message is plain and names what is wrong, for the admin. */
export class SamlMetadataError extends Error {}

const MIB = 1024 * 1024;
/** Metadata larger than this is refused, fetched or given: an IdP's is tens of kilobytes at most. */
const MAX_METADATA_BYTES = MIB;
/** The whole fetch of a metadata URL (connection, answer and body) must end within this. */
const FETCH_TIMEOUT_MS = 10_000;

const SAML_PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';
const HTTP_REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const { metadata: MD, xmldsig: DS } = SAML_NAMESPACES;

/** The entity descriptors of a metadata document (one, or those of an EntitiesDescriptor at any depth). */
function entityDescriptors(root: Element): Element[] {
  if (root.namespaceURI !== MD) return [];
  if (root.localName === 'EntityDescriptor') return [root];
  if (root.localName !== 'EntitiesDescriptor') return [];
  return [
    ...childElements(root, MD, 'EntityDescriptor'),
    ...childElements(root, MD, 'EntitiesDescriptor').flatMap(entityDescriptors),
  ];
}

/** A certificate from metadata (base64 DER, whitespace removed), or an error when it is not X.509. */
function signingCertificate(text: string): string {
  const base64 = text.replace(/\s+/g, '');
  try {
    new X509Certificate(Buffer.from(base64, 'base64'));
  } catch {
    throw new SamlMetadataError(
      'a signing certificate of the identity provider is not a valid X.509 certificate',
    );
  }
  return base64;
}

/**
 * Reads an identity provider's metadata: its entity id, the HTTP-Redirect single sign-on URL, and every
 * certificate it may sign with (a KeyDescriptor for signing or for any use), so a key rollover announced in the
 * metadata keeps working. The metadata's own signature, if any, is not needed: it comes from the admin or over
 * https from the IdP.
 */
export function parseIdpMetadata(xml: string): SamlIdp {
  if (Buffer.byteLength(xml) > MAX_METADATA_BYTES) {
    throw new SamlMetadataError(`the metadata is larger than ${MAX_METADATA_BYTES / MIB} MiB`);
  }
  const root = parseXml(xml, (problem) => new SamlMetadataError(`the metadata ${problem}`));
  const entities = entityDescriptors(root).filter(
    (entity) => childElements(entity, MD, 'IDPSSODescriptor').length > 0,
  );
  if (entities.length === 0) {
    throw new SamlMetadataError('the metadata describes no SAML identity provider (IDPSSODescriptor)');
  }
  if (entities.length > 1)
    throw new SamlMetadataError('the metadata describes more than one identity provider');
  const entity = entities[0] as Element;
  const entityId = entity.getAttribute('entityID')?.trim() ?? '';
  if (!entityId) throw new SamlMetadataError('the identity provider has no entityID');

  const descriptor = childElements(entity, MD, 'IDPSSODescriptor').find((each) =>
    (each.getAttribute('protocolSupportEnumeration') ?? '').split(/\s+/).includes(SAML_PROTOCOL),
  );
  if (!descriptor) throw new SamlMetadataError('the identity provider does not support SAML 2.0');

  const ssoUrl = childElements(descriptor, MD, 'SingleSignOnService')
    .find((service) => service.getAttribute('Binding') === HTTP_REDIRECT)
    ?.getAttribute('Location')
    ?.trim();
  if (!ssoUrl)
    throw new SamlMetadataError('the identity provider has no HTTP-Redirect single sign-on service');
  let ssoProtocol: string;
  try {
    ssoProtocol = new URL(ssoUrl).protocol;
  } catch {
    throw new SamlMetadataError('the single sign-on service location is not an absolute URL');
  }
  if (ssoProtocol !== 'https:' && ssoProtocol !== 'http:') {
    throw new SamlMetadataError('the single sign-on service location must be an http or https URL');
  }

  const keys = childElements(descriptor, MD, 'KeyDescriptor').filter((key) =>
    ['', 'signing'].includes(key.getAttribute('use') ?? ''),
  );
  const certificates = descendants(keys, DS, ['KeyInfo', 'X509Data', 'X509Certificate']).map((certificate) =>
    signingCertificate(certificate.textContent ?? ''),
  );
  const signingCertificates = [...new Set(certificates)];
  if (signingCertificates.length === 0) {
    throw new SamlMetadataError('the identity provider has no signing certificate');
  }
  return { entityId, ssoUrl, signingCertificates };
}

/**
 * Fetches an IdP's metadata: https only and to public addresses only (the webhooks' SSRF guard: the name is
 * resolved once, checked, and connected to at the address checked) unless private networks are allowed; no
 * redirect followed; at most MAX_METADATA_BYTES within FETCH_TIMEOUT_MS. Throws SamlMetadataError saying why.
 */
export function fetchIdpMetadata(url: string, options: { allowPrivateNetworks: boolean }): Promise<string> {
  const problem = urlProblem(url, options.allowPrivateNetworks);
  if (problem !== undefined) return Promise.reject(new SamlMetadataError(`the metadata URL ${problem}`));
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    let settled = false;
    const request = (target.protocol === 'https:' ? https : http).request(target, {
      method: 'GET',
      headers: { accept: 'application/samlmetadata+xml, application/xml, text/xml' },
      lookup: guardedLookup(options.allowPrivateNetworks),
      agent: false,
    });
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
    };
    const fail = (message: string) =>
      settle(() => {
        request.destroy();
        reject(new SamlMetadataError(message));
      });
    const timer = setTimeout(
      () => fail(`the metadata URL did not answer within ${FETCH_TIMEOUT_MS / 1000} s`),
      FETCH_TIMEOUT_MS,
    );
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      if (status !== 200) {
        const redirect = status >= 300 && status < 400 ? ' (redirects are not followed)' : '';
        fail(`the metadata URL answered HTTP ${status}${redirect}`);
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_METADATA_BYTES) fail(`the metadata is larger than ${MAX_METADATA_BYTES / MIB} MiB`);
        else chunks.push(chunk);
      });
      response.on('end', () => settle(() => resolve(Buffer.concat(chunks).toString('utf8'))));
      response.on('error', () => fail('the metadata URL could not be read'));
    });
    request.on('error', (error) =>
      fail(
        error instanceof ForbiddenAddressError
          ? 'the metadata URL must not point to a loopback, private or link-local address'
          : 'the metadata URL could not be reached',
      ),
    );
    request.end();
  });
}

/**
 * The service provider's metadata for the IdP's admin: the entity id, the HTTP-POST assertion consumer service,
 * that assertions are wanted signed, and the email address as the preferred NameID. Requests are not signed, so it
 * names no key.
 */
export function serviceProviderMetadata(sp: SamlServiceProvider): string {
  return nodeSaml().generateServiceProviderMetadata({
    issuer: sp.entityId,
    callbackUrl: sp.acsUrl,
    identifierFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
    wantAssertionsSigned: true,
  });
}
