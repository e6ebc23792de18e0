// A SAML sign-in: the AuthnRequest sent to the IdP, and the checks of the response the browser brings back.
import { randomBytes } from 'node:crypto';
import type { CacheProvider, SAML } from '@node-saml/node-saml';
import type { Element } from '@xmldom/xmldom';
import type { Db } from '../../db/database.js';
import type { SamlIdp, SamlServiceProvider } from './metadata.js';
import { nodeSaml } from './node-saml.js';
import {
  consumeSamlRequest,
  findPendingSamlRequest,
  insertSamlRequest,
  recordSamlAssertion,
} from './queries.js';
import { childElements, descendants, parseXml, SAML_NAMESPACES } from './xml.js';

/** How long a request waits for its answer: as long as a sign-in interaction of the embedded provider lives. */
const REQUEST_TTL_MS = 30 * 60 * 1000;
/** How far the IdP's clock may be from ours when the assertion's time window is checked (docs/saml.md). */
const CLOCK_SKEW_MS = 3 * 60 * 1000;
/** RelayState's bound in the SAML bindings (section 3.4.3). */
const MAX_RELAY_STATE_BYTES = 80;
/** A response larger than this is refused unread: an IdP's is a few kilobytes. */
const MAX_RESPONSE_BYTES = 256 * 1024;

const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
const EMAIL_NAME_ID = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
/**
 * The attributes an email address is taken from, in this order: Microsoft Entra ID's claim, the eduPerson /
 * LDAP `mail` OID, and the names Okta and Google Workspace admins usually map it to. Without one, an
 * emailAddress-format NameID is the email.
 */
const EMAIL_ATTRIBUTES = [
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
  'urn:oid:0.9.2342.19200300.100.1.3',
  'email',
  'Email',
  'mail',
  'emailAddress',
];
const EMAIL = /^[^\s@]+@[^\s@]+$/;

const ASSERTION = SAML_NAMESPACES.assertion;
const SAML_PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';

/** Why a SAML response was refused: a code for the log and the refusal page, never the XML. */
export type SamlRefusal =
  /** Not base64 of a SAML Response, too large, or without an assertion. */
  | 'malformed'
  /** The IdP answered with an error status (the user cancelled, or is not assigned to the application). */
  | 'idp_error'
  /** Neither the response nor the assertion carries a valid signature of one of the connection's IdP keys. */
  | 'invalid_signature'
  /** More than one assertion in the response: the shape of a signature wrapping attack. */
  | 'multiple_assertions'
  /** The assertion was issued by another entity than the connection's IdP. */
  | 'wrong_issuer'
  /** The assertion is for another service provider. */
  | 'wrong_audience'
  /** The response's Destination or the assertion's Recipient is not this connection's ACS URL. */
  | 'wrong_recipient'
  /** The response answers no request (IdP-initiated sign-in, which is off). */
  | 'unsolicited'
  /** The response answers a request this connection did not send, that expired, or that was answered already. */
  | 'unknown_request'
  /** The assertion is not yet valid or no longer valid (clock skew allowed for). */
  | 'outside_time_window'
  /** The assertion was used before. */
  | 'replayed'
  /** The assertion names no subject (NameID). */
  | 'no_subject';

/** A SAML response refused; `reason` says why. */
export class SamlResponseError extends Error {
  constructor(readonly reason: SamlRefusal) {
    super(`SAML response refused: ${reason}`);
  }
}

/**
 * The requests of one connection as node-saml's request-id cache, kept in the database so that any replica can
 * take the answer. A request is consumed by finishSamlSignIn once the whole response has been checked, in one
 * delete that only one caller can win, so node-saml's removal is not needed. A database failure is kept in
 * `failure`: node-saml's error would otherwise hide an outage behind a refusal.
 */
function pendingRequests(db: Db, connectionId: string): CacheProvider & { failure: unknown } {
  const requests = {
    failure: undefined as unknown,
    async saveAsync(id: string, value: string) {
      await insertSamlRequest(db, {
        id,
        connectionId,
        expiresAt: new Date(Date.now() + REQUEST_TTL_MS),
      });
      return { value, createdAt: Date.now() };
    },
    async getAsync(id: string) {
      try {
        const sentAt = await findPendingSamlRequest(db, connectionId, id, new Date());
        return sentAt?.toISOString() ?? null;
      } catch (error) {
        requests.failure = error;
        throw error;
      }
    },
    async removeAsync(id: string | null) {
      return id;
    },
  };
  return requests;
}

/** node-saml set up for one connection: every check it offers for a response of the connection's IdP. */
function samlFor(
  requests: CacheProvider,
  sp: SamlServiceProvider,
  idp: SamlIdp,
  newRequestId?: () => string,
): SAML {
  const { SAML, ValidateInResponseTo } = nodeSaml();
  return new SAML({
    entryPoint: idp.ssoUrl,
    issuer: sp.entityId,
    callbackUrl: sp.acsUrl,
    audience: sp.entityId,
    idpCert: idp.signingCertificates,
    // A signed response covers its assertion; an unsigned one needs a signed assertion; neither is refused.
    wantAuthnResponseSigned: false,
    wantAssertionsSigned: false,
    validateInResponseTo: ValidateInResponseTo.always,
    requestIdExpirationPeriodMs: REQUEST_TTL_MS,
    acceptedClockSkewMs: CLOCK_SKEW_MS,
    // The IdP sends the NameID its application is set up for; the email comes from an attribute or that NameID.
    identifierFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
    // A requested password context would make Entra ID refuse people who sign in with MFA or passwordless.
    disableRequestedAuthnContext: true,
    cacheProvider: requests,
    ...(newRequestId ? { generateUniqueId: newRequestId } : {}),
  });
}

/**
 * Starts a sign-in at the connection's IdP: an AuthnRequest for the HTTP-Redirect binding, remembered (by its id,
 * for the connection, for REQUEST_TTL_MS) so that only an answer to it is taken. The relay state comes back with
 * the response, unsigned: at most 80 bytes, and nothing the caller trusts without its own check.
 */
export async function startSamlSignIn(
  db: Db,
  input: { connectionId: string; sp: SamlServiceProvider; idp: SamlIdp; relayState: string },
): Promise<{ redirectUrl: string; requestId: string }> {
  if (Buffer.byteLength(input.relayState) > MAX_RELAY_STATE_BYTES) {
    throw new RangeError(`a SAML RelayState may not exceed ${MAX_RELAY_STATE_BYTES} bytes`);
  }
  // An XML ID is an NCName: it may not start with a digit.
  const requestId = `_${randomBytes(20).toString('hex')}`;
  const saml = samlFor(pendingRequests(db, input.connectionId), input.sp, input.idp, () => requestId);
  const redirectUrl = await saml.getAuthorizeUrlAsync(input.relayState, undefined, {});
  return { redirectUrl, requestId };
}

/** The refusal an error of node-saml's checks stands for (node-saml throws plain errors, told by their message). */
function refusalOf(error: unknown): SamlRefusal {
  if (error instanceof nodeSaml().SamlStatusError) return 'idp_error';
  const message = error instanceof Error ? error.message : '';
  if (message.includes('multiple assertions')) return 'multiple_assertions';
  if (/signature/i.test(message)) return 'invalid_signature';
  if (message.includes('InResponseTo is missing')) return 'unsolicited';
  if (message.includes('InResponseTo')) return 'unknown_request';
  if (/audience/i.test(message)) return 'wrong_audience';
  if (/expired|not yet valid|No valid subject confirmation/.test(message)) return 'outside_time_window';
  return 'malformed';
}

/** The attributes of an assertion: each name with its text values. */
function attributesOf(assertion: Element): Record<string, string[]> {
  const attributes = new Map<string, string[]>();
  for (const attribute of descendants([assertion], ASSERTION, ['AttributeStatement', 'Attribute'])) {
    const name = attribute.getAttribute('Name');
    if (!name) continue;
    const values = childElements(attribute, ASSERTION, 'AttributeValue').map(
      (value) => value.textContent ?? '',
    );
    attributes.set(name, [...(attributes.get(name) ?? []), ...values]);
  }
  return Object.fromEntries(attributes);
}

/**
 * Checks the SAMLResponse the browser POSTed to the connection's ACS URL and answers who signed in. node-saml
 * checks the signature (of the response or of its one assertion, by one of the connection's IdP keys), the
 * audience, the time window and that InResponseTo names a request this connection sent; then, on the signed
 * assertion alone: the issuer, a bearer confirmation for this ACS URL answering that same request, and a NameID;
 * on the response: its Destination. Last, in one transaction, the request is consumed and the assertion id recorded,
 * so that neither is taken twice, on any replica. Throws SamlResponseError when any check fails.
 */
export async function finishSamlSignIn(
  db: Db,
  input: { connectionId: string; sp: SamlServiceProvider; idp: SamlIdp; samlResponse: string },
): Promise<{
  nameId: string;
  email: string | undefined;
  attributes: Record<string, string[]>;
  assertionId: string;
  /** The request the response answered (consumed now): a caller binds its own sign-in under way to it. */
  requestId: string;
}> {
  const { connectionId, sp, idp, samlResponse } = input;
  if (samlResponse.length > (MAX_RESPONSE_BYTES * 4) / 3 + 4) throw new SamlResponseError('malformed');
  const refuse = (reason: SamlRefusal) => new SamlResponseError(reason);
  const response = parseXml(Buffer.from(samlResponse, 'base64').toString('utf8'), () => refuse('malformed'));
  if (response.namespaceURI !== SAML_PROTOCOL || response.localName !== 'Response') throw refuse('malformed');
  const requestId = response.getAttribute('InResponseTo');
  if (!requestId) throw refuse('unsolicited');
  const destination = response.getAttribute('Destination');
  if (destination && destination !== sp.acsUrl) throw refuse('wrong_recipient');

  const requests = pendingRequests(db, connectionId);
  let assertionXml: string | undefined;
  try {
    const { profile } = await samlFor(requests, sp, idp).validatePostResponseAsync({
      SAMLResponse: samlResponse,
    });
    assertionXml = profile?.getAssertionXml?.();
  } catch (error) {
    if (requests.failure !== undefined) throw requests.failure;
    throw refuse(refusalOf(error));
  }
  if (!assertionXml) throw refuse('malformed');

  // Only what the signature covers is read from here on: the assertion node-saml verified.
  const assertion = parseXml(assertionXml, () => refuse('malformed'));
  const assertionId = assertion.getAttribute('ID');
  if (!assertionId) throw refuse('malformed');
  if (childElements(assertion, ASSERTION, 'Issuer')[0]?.textContent?.trim() !== idp.entityId) {
    throw refuse('wrong_issuer');
  }
  const nameIdElement = descendants([assertion], ASSERTION, ['Subject', 'NameID'])[0];
  const nameId = nameIdElement?.textContent?.trim();
  if (!nameIdElement || !nameId) throw refuse('no_subject');
  const bearers = descendants([assertion], ASSERTION, ['Subject', 'SubjectConfirmation']).filter(
    (confirmation) => confirmation.getAttribute('Method') === BEARER,
  );
  const confirmations = descendants(bearers, ASSERTION, ['SubjectConfirmationData']).filter(
    (data) => data.getAttribute('Recipient') === sp.acsUrl,
  );
  if (confirmations.length === 0) throw refuse('wrong_recipient');
  const confirmation = confirmations.find((data) => data.getAttribute('InResponseTo') === requestId);
  if (!confirmation) throw refuse('unknown_request');
  // node-saml took the first confirmation within its time window; the one taken here must be within it too.
  const confirmedUntil = Date.parse(confirmation.getAttribute('NotOnOrAfter') ?? '');
  if (Number.isNaN(confirmedUntil) || Date.now() - CLOCK_SKEW_MS >= confirmedUntil) {
    throw refuse('outside_time_window');
  }

  // The id is kept as long as the assertion could pass the time checks (the later of its two ends), plus the skew.
  const conditionsUntil = Date.parse(
    childElements(assertion, ASSERTION, 'Conditions')[0]?.getAttribute('NotOnOrAfter') ?? '',
  );
  const expiresAt = new Date(
    Math.max(confirmedUntil, Number.isNaN(conditionsUntil) ? 0 : conditionsUntil) + CLOCK_SKEW_MS,
  );
  const now = new Date();
  await db.transaction().execute(async (trx) => {
    if (!(await consumeSamlRequest(trx, connectionId, requestId, now))) throw refuse('unknown_request');
    if (!(await recordSamlAssertion(trx, { connectionId, assertionId, expiresAt }))) throw refuse('replayed');
  });

  const attributes = attributesOf(assertion);
  const email =
    EMAIL_ATTRIBUTES.flatMap((name) => attributes[name] ?? [])
      .map((value) => value.trim())
      .find((value) => EMAIL.test(value)) ??
    (nameIdElement.getAttribute('Format') === EMAIL_NAME_ID && EMAIL.test(nameId) ? nameId : undefined);
  return { nameId, email, attributes, assertionId, requestId };
}
