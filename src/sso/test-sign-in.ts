// A test sign-in: one round trip to the organization's IdP whose answer is shown, never used to sign anyone in.
import { randomBytes } from 'node:crypto';
import type { Db } from '../db/database.js';
import type { Organization } from '../db/schema.js';
import { ProblemError } from '../kernel/problem.js';
import {
  DiscoveryError,
  finishOidcTest,
  IdpAnswerError,
  type IdpClaims,
  isTestState,
  startOidcTest,
} from './oidc.js';
import { findConnectionOfOrganization, insertTestSignIn, samlTests } from './queries.js';
import { startSamlSignIn } from './saml/index.js';
import {
  answerPendingSamlRequest,
  type checkSamlAnswer,
  type MatchPreview,
  managedElsewhere,
  noConnection,
  oidcClientOf,
  previewMatch,
  type SsoSettings,
  samlIdpOf,
  samlServiceProvider,
  ssoCallbackUrl,
} from './service.js';

/** How long a test sign-in waits for the IdP's answer. */
const TEST_TTL_MS = 10 * 60 * 1000;

/** What a test sign-in's page shows: what the IdP sent (never a token) and whom it would sign in, or why not. */
export type TestAnswer =
  | { kind: 'oidc'; claims: IdpClaims; match: MatchPreview | undefined }
  | {
      kind: 'saml';
      nameId: string;
      email: string | undefined;
      attributes: Record<string, string[]>;
      match: MatchPreview | undefined;
    }
  /** The answer failed a check (`reason` says which), or belongs to no test under way (`expired`). */
  | { kind: 'refused'; reason: string };

type Log = Parameters<typeof checkSamlAnswer>[3];

const relyingPartyOf = (settings: SsoSettings) => ({
  redirectUri: ssoCallbackUrl(settings.publicUrl),
  allowPrivateNetworks: settings.allowPrivateNetworks,
});

/**
 * Starts a test sign-in at a connection's IdP: the URL that takes the browser there, with the request kept (one
 * use, TEST_TTL_MS) for no interaction. 503 when the IdP's discovery cannot be used now.
 */
export async function startTestOf(db: Db, settings: SsoSettings, connectionId: string): Promise<string> {
  const idp = await samlIdpOf(db, connectionId);
  if (idp) {
    const relayState = randomBytes(32).toString('base64url');
    const { redirectUrl, requestId } = await startSamlSignIn(db, {
      connectionId,
      sp: samlServiceProvider(settings.publicUrl, connectionId),
      idp,
      relayState,
    });
    await insertTestSignIn(db, {
      state: relayState,
      connectionId,
      codeVerifier: '',
      nonce: requestId,
      expiresAt: new Date(Date.now() + TEST_TTL_MS),
    });
    return redirectUrl;
  }
  const oidc = await oidcClientOf(db, settings, connectionId);
  if (!oidc) throw noConnection();
  try {
    return (await startOidcTest(db, oidc, relyingPartyOf(settings))).href;
  } catch (error) {
    if (!(error instanceof DiscoveryError)) throw error;
    throw new ProblemError(
      503,
      'identity-provider-unavailable',
      `The organization's identity provider cannot be used now: ${error.message}.`,
    );
  }
}

/** POST /api/organizations/sso/test: a test sign-in at the organization's IdP. */
export async function startTestSignIn(
  db: Db,
  settings: SsoSettings,
  organization: Organization,
): Promise<{ url: string }> {
  if (!settings.embedded) throw managedElsewhere();
  const connection = await findConnectionOfOrganization(db, organization.id);
  if (!connection) throw noConnection();
  return { url: await startTestOf(db, settings, connection.id) };
}

/** Whether an answer at the OpenID Connect callback is a test sign-in's. */
export const isTestAnswer = (db: Db, state: string) => isTestState(db, state);

/** A test's OpenID Connect answer (the callback's query), checked as a sign-in's, then matched without effect. */
export async function finishOidcTestAnswer(
  db: Db,
  settings: SsoSettings,
  query: string,
): Promise<TestAnswer> {
  const callbackUrl = new URL(ssoCallbackUrl(settings.publicUrl));
  callbackUrl.search = query;
  try {
    const { identity, claims } = await finishOidcTest(
      db,
      (connectionId) => oidcClientOf(db, settings, connectionId),
      relyingPartyOf(settings),
      callbackUrl,
    );
    return { kind: 'oidc', claims, match: await previewMatch(db, identity) };
  } catch (error) {
    if (error instanceof IdpAnswerError) return { kind: 'refused', reason: error.reason };
    if (error instanceof DiscoveryError) return { kind: 'refused', reason: 'discovery' };
    throw error;
  }
}

/**
 * A SAML response at a connection's ACS for a test under way (its RelayState names one; else undefined): checked as
 * a sign-in's, bound to the test's own AuthnRequest, then matched without effect.
 */
export async function finishSamlTestAnswer(
  db: Db,
  settings: SsoSettings,
  connectionId: string,
  form: { samlResponse: string; relayState: string },
  log: Log,
): Promise<TestAnswer | undefined> {
  const result = await answerPendingSamlRequest(
    db,
    settings,
    { connectionId, form, pending: samlTests },
    log,
  );
  switch (result.kind) {
    case 'not-pending':
      return undefined;
    case 'refused':
      return { kind: 'refused', reason: result.reason };
    case 'connection-gone':
      return { kind: 'refused', reason: 'connection-gone' };
    case 'used':
      return { kind: 'refused', reason: 'unknown-state' };
  }
  const { answer } = result;
  const match = await previewMatch(db, {
    connectionId,
    subject: answer.nameId,
    email: answer.email,
    emailVerified: answer.email !== undefined,
  });
  return { kind: 'saml', nameId: answer.nameId, email: answer.email, attributes: answer.attributes, match };
}
