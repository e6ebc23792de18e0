// The OpenID Connect relying party of a connection (openid-client): discovery, the request to the IdP, its answer.
import { createHash } from 'node:crypto';
import * as client from 'openid-client';
import type { Db } from '../db/database.js';
import { createLruCache } from '../kernel/lru-cache.js';
import { guardedIdpFetch, IDP_TIMEOUT_MS, idpUrlProblem } from './idp-fetch.js';

/** What the relying party needs besides the connection: where the IdP answers, and which addresses it may use. */
export interface RelyingPartySettings {
  /** PUBLIC_URL/signin/sso/callback, registered at every IdP. */
  redirectUri: string;
  allowPrivateNetworks: boolean;
}

/** An OIDC connection as the relying party uses it (the secret opened). */
export interface OidcClient {
  connectionId: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Changes with every PUT, so a cached discovery of the connection before it is not used. */
  version: string;
}

/** The IdP's discovery document is unusable: the message says why, for the admin (never a secret). */
export class DiscoveryError extends Error {}

/** The IdP's answer is refused: `reason` is a code for the log and the page, never a token or a claim value. */
export class IdpAnswerError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** How long a discovery (and the keys read through it) is used before it is fetched again. */
const DISCOVERY_TTL_MS = 10 * 60 * 1000;
/** How long a sign-in at the IdP may take, from the redirect to its answer. */
const SIGN_IN_TTL_MS = 10 * 60 * 1000;

const configurations = createLruCache<Promise<client.Configuration>>(1000);

/**
 * The token endpoint's client authentication: `client_secret_basic` where discovery lists it, or lists none (the
 * OpenID Connect default), else `client_secret_post`.
 */
function clientAuthentication(metadata: client.ServerMetadata, secret: string): client.ClientAuth {
  const supported = metadata.token_endpoint_auth_methods_supported;
  if (!supported || supported.includes('client_secret_basic')) return client.ClientSecretBasic(secret);
  if (supported.includes('client_secret_post')) return client.ClientSecretPost(secret);
  throw new DiscoveryError('its token endpoint takes neither client_secret_basic nor client_secret_post');
}

/** Why a discovered IdP cannot be used, or undefined. */
function metadataProblem(metadata: client.ServerMetadata, allowPrivateNetworks: boolean): string | undefined {
  for (const name of ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const) {
    const value = metadata[name];
    if (typeof value !== 'string') return `its discovery document has no ${name}`;
    const problem = idpUrlProblem(value, allowPrivateNetworks);
    if (problem) return `its ${name} ${problem}`;
  }
  const responseTypes = metadata.response_types_supported;
  if (Array.isArray(responseTypes) && !responseTypes.includes('code')) {
    return 'it does not offer the authorization code flow';
  }
  const challenges = metadata.code_challenge_methods_supported;
  if (Array.isArray(challenges) && !challenges.includes('S256')) return 'it does not offer PKCE with S256';
  return undefined;
}

async function discover(oidc: OidcClient, allowPrivateNetworks: boolean): Promise<client.Configuration> {
  const problem = idpUrlProblem(oidc.issuer, allowPrivateNetworks);
  if (problem) throw new DiscoveryError(problem);
  let metadata: client.ServerMetadata;
  const options: client.DiscoveryRequestOptions = {
    [client.customFetch]: guardedIdpFetch(allowPrivateNetworks),
    timeout: Math.ceil(IDP_TIMEOUT_MS / 1000),
    ...(allowPrivateNetworks ? { execute: [client.allowInsecureRequests] } : {}),
  };
  try {
    metadata = (
      await client.discovery(new URL(oidc.issuer), oidc.clientId, undefined, undefined, options)
    ).serverMetadata();
  } catch (error) {
    throw new DiscoveryError(
      `its discovery document (${oidc.issuer.replace(/\/$/, '')}/.well-known/openid-configuration) could not be used: ${(error as Error).message}`,
    );
  }
  const unusable = metadataProblem(metadata, allowPrivateNetworks);
  if (unusable) throw new DiscoveryError(unusable);
  const configuration = new client.Configuration(
    metadata,
    oidc.clientId,
    undefined,
    clientAuthentication(metadata, oidc.clientSecret),
  );
  configuration[client.customFetch] = options[client.customFetch] as client.CustomFetch;
  configuration.timeout = options.timeout as number;
  if (allowPrivateNetworks) client.allowInsecureRequests(configuration);
  // The ID token's signature is checked against the IdP's keys (read through jwks_uri, again when a key id is new).
  client.enableNonRepudiationChecks(configuration);
  return configuration;
}

/**
 * The connection's relying-party configuration: its IdP discovered (cached DISCOVERY_TTL_MS per version of the
 * connection). Throws DiscoveryError when the IdP cannot be used.
 */
function relyingParty(oidc: OidcClient, allowPrivateNetworks: boolean): Promise<client.Configuration> {
  const key = `${oidc.connectionId}:${oidc.version}`;
  const cached = configurations.get(key);
  if (cached) return cached;
  const loading = discover(oidc, allowPrivateNetworks);
  configurations.set(key, loading, Date.now() + DISCOVERY_TTL_MS);
  loading.catch(() => configurations.delete(key));
  return loading;
}

/** Checks an issuer before a connection is stored: its discovery fetched, usable. */
export async function checkIssuer(oidc: OidcClient, allowPrivateNetworks: boolean): Promise<void> {
  await discover(oidc, allowPrivateNetworks);
}

const stateHash = (state: string) => createHash('sha256').update(state).digest('base64url');

/** A request to the IdP, and what its answer is checked against (kept server-side, used once). */
interface OidcAuthorization {
  url: URL;
  stateHash: string;
  codeVerifier: string;
  nonce: string;
  expiresAt: Date;
}

/** The authorization request for the IdP: `openid email`, the code flow, PKCE S256, state and nonce. */
async function authorizationRequest(
  oidc: OidcClient,
  settings: RelyingPartySettings,
  loginHint: string | undefined,
): Promise<OidcAuthorization> {
  const configuration = await relyingParty(oidc, settings.allowPrivateNetworks);
  const state = client.randomState();
  const nonce = client.randomNonce();
  const codeVerifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(configuration, {
    redirect_uri: settings.redirectUri,
    scope: 'openid email',
    response_type: 'code',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...(loginHint ? { login_hint: loginHint } : {}),
  });
  return {
    url,
    stateHash: stateHash(state),
    codeVerifier,
    nonce,
    expiresAt: new Date(Date.now() + SIGN_IN_TTL_MS),
  };
}

/**
 * Starts a sign-in at the IdP for an interaction of the embedded provider: the state, nonce and PKCE verifier kept
 * (one use, SIGN_IN_TTL_MS), and the URL to send the browser to.
 */
export async function startOidcSignIn(
  db: Db,
  oidc: OidcClient,
  settings: RelyingPartySettings,
  input: { interactionUid: string; loginHint: string | undefined },
): Promise<URL> {
  const request = await authorizationRequest(oidc, settings, input.loginHint);
  await db
    .insertInto('sso_sign_in')
    .values({
      state_hash: request.stateHash,
      connection_id: oidc.connectionId,
      interaction_uid: input.interactionUid,
      code_verifier: request.codeVerifier,
      nonce: request.nonce,
      expires_at: request.expiresAt,
    })
    .execute();
  return request.url;
}

/** Starts a test sign-in at the IdP: as a sign-in, but kept for no interaction (`sso_test_sign_in`). */
export async function startOidcTest(db: Db, oidc: OidcClient, settings: RelyingPartySettings): Promise<URL> {
  const request = await authorizationRequest(oidc, settings, undefined);
  await db
    .insertInto('sso_test_sign_in')
    .values({
      state_hash: request.stateHash,
      connection_id: oidc.connectionId,
      code_verifier: request.codeVerifier,
      nonce: request.nonce,
      expires_at: request.expiresAt,
    })
    .execute();
  return request.url;
}

/** Whether a `state` names a test sign-in under way (not used up). */
export async function isTestState(db: Db, state: string): Promise<boolean> {
  const row = await db
    .selectFrom('sso_test_sign_in')
    .select('state_hash')
    .where('state_hash', '=', stateHash(state))
    .where('expires_at', '>', new Date())
    .executeTakeFirst();
  return row !== undefined;
}

/** The interaction a sign-in under way belongs to, found by the `state` the IdP sent back (not used up). */
export async function interactionOfState(db: Db, state: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('sso_sign_in')
    .select('interaction_uid')
    .where('state_hash', '=', stateHash(state))
    .where('expires_at', '>', new Date())
    .executeTakeFirst();
  return row?.interaction_uid;
}

/** What a checked answer of the IdP says about the person. */
export interface IdpIdentity {
  connectionId: string;
  subject: string;
  email: string | undefined;
  /** `email_verified` (or Microsoft Entra ID's `xms_edov`) is true. */
  emailVerified: boolean;
}

/** What the IdP sent, as a test sign-in shows it: the claims, never a token. */
export interface IdpClaims {
  /** The ID token's claims, without those that only bind it to this request (nonce, token hashes). */
  idToken: Record<string, unknown>;
  /** The userinfo endpoint's claims, when the ID token carried no email and they were asked for. */
  userinfo: Record<string, unknown> | undefined;
}

/** The claims that bind an ID token to its request and tokens: of no use to an admin, never shown. */
const BINDING_CLAIMS = new Set(['nonce', 'at_hash', 'c_hash', 's_hash']);

/** A kept sign-in or test sign-in: what the answer is checked against. */
interface KeptSignIn {
  connection_id: string;
  code_verifier: string;
  nonce: string;
  expires_at: Date;
}

const expiredAnswer = () =>
  new IdpAnswerError('unknown-state', 'The answer does not belong to a sign-in under way here.');

/**
 * Checks the IdP's answer to a kept sign-in: exchanges the code with its PKCE verifier, and checks the state, the ID
 * token's signature, issuer, audience, expiry and nonce (openid-client).
 */
async function checkAnswer(
  kept: KeptSignIn | undefined,
  loadClient: (connectionId: string) => Promise<OidcClient | undefined>,
  settings: RelyingPartySettings,
  callbackUrl: URL,
  state: string,
): Promise<{ identity: IdpIdentity; claims: IdpClaims }> {
  if (!kept || kept.expires_at.getTime() <= Date.now()) throw expiredAnswer();
  const oidc = await loadClient(kept.connection_id);
  if (!oidc) throw new IdpAnswerError('connection-gone', 'The connection was removed meanwhile.');
  const idpError = callbackUrl.searchParams.get('error');
  if (idpError)
    throw new IdpAnswerError('idp-error', `The identity provider answered ${idpError.slice(0, 100)}.`);
  const configuration = await relyingParty(oidc, settings.allowPrivateNetworks);
  let claims: client.IDToken | undefined;
  let userinfo: client.UserInfoResponse | undefined;
  try {
    const tokens = await client.authorizationCodeGrant(configuration, callbackUrl, {
      pkceCodeVerifier: kept.code_verifier,
      expectedState: state,
      expectedNonce: kept.nonce,
      idTokenExpected: true,
    });
    claims = tokens.claims();
    // An IdP may keep the email out of the ID token (OpenID Connect puts scope claims at userinfo in the code
    // flow): then it is asked there, for the same subject.
    if (claims && claims.email === undefined && configuration.serverMetadata().userinfo_endpoint) {
      userinfo = await client.fetchUserInfo(configuration, tokens.access_token, claims.sub);
    }
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new IdpAnswerError(
      typeof code === 'string' ? code : 'refused',
      `The identity provider's answer was refused: ${(error as Error).message}`,
    );
  }
  if (!claims) throw new IdpAnswerError('no-id-token', 'The identity provider sent no ID token.');
  const emailClaims: { readonly [claim: string]: unknown } = userinfo ?? claims;
  const email = typeof emailClaims.email === 'string' ? emailClaims.email.trim() : undefined;
  return {
    identity: {
      connectionId: oidc.connectionId,
      subject: claims.sub,
      email: email && email.length <= 320 ? email : undefined,
      emailVerified: emailClaims.email_verified === true || emailClaims.xms_edov === true,
    },
    claims: {
      idToken: Object.fromEntries(Object.entries(claims).filter(([name]) => !BINDING_CLAIMS.has(name))),
      userinfo: userinfo && { ...userinfo },
    },
  };
}

/**
 * Finishes a sign-in with the IdP's answer at the callback: uses the kept sign-in up (one use, this interaction's
 * only), then checks the answer (checkAnswer). Throws IdpAnswerError when refused.
 */
export async function finishOidcSignIn(
  db: Db,
  loadClient: (connectionId: string) => Promise<OidcClient | undefined>,
  settings: RelyingPartySettings,
  input: { interactionUid: string; callbackUrl: URL },
): Promise<IdpIdentity> {
  const state = input.callbackUrl.searchParams.get('state') ?? '';
  const kept = await db
    .deleteFrom('sso_sign_in')
    .where('state_hash', '=', stateHash(state))
    .where('interaction_uid', '=', input.interactionUid)
    .returningAll()
    .executeTakeFirst();
  return (await checkAnswer(kept, loadClient, settings, input.callbackUrl, state)).identity;
}

/** Finishes a test sign-in with the IdP's answer: the kept test used up, the answer checked, its claims answered. */
export async function finishOidcTest(
  db: Db,
  loadClient: (connectionId: string) => Promise<OidcClient | undefined>,
  settings: RelyingPartySettings,
  callbackUrl: URL,
): Promise<{ identity: IdpIdentity; claims: IdpClaims }> {
  const state = callbackUrl.searchParams.get('state') ?? '';
  const kept = await db
    .deleteFrom('sso_test_sign_in')
    .where('state_hash', '=', stateHash(state))
    .returningAll()
    .executeTakeFirst();
  return checkAnswer(kept, loadClient, settings, callbackUrl, state);
}
