// Bearer-token verification with jose against the configured JWKS, verified tokens cached until they expire.
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import type { AuthConfig } from '../config.js';
import { createLruCache } from '../kernel/lru-cache.js';
import { unauthorized } from '../kernel/problem.js';
import { isStorableText } from '../kernel/validation.js';

/** The caller, as its verified token says. */
export interface Principal {
  /** The identity provider's user id (`identityProviderUserId`). */
  userId: string;
  /** The token's organization: an `identityOrganizationId`. */
  identityOrganizationId: string;
  roles: ReadonlySet<string>;
  /** The token's `cnf.jkt`: the thumbprint of the DPoP key it is bound to (RFC 9449); undefined for a bearer token. */
  dpopKey: string | undefined;
}

/** Asymmetric algorithms only: a token signed with a shared secret, or not at all, is refused. */
const ALLOWED_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

export type TokenVerifier = (token: string) => Promise<Principal>;

/** How many verified tokens are remembered; past it the least recently used one is forgotten. */
const VERIFIED_TOKENS = 10_000;
/**
 * The longest a verified token is remembered, however late its expiry: jose's cache of a remote JWKS lasts as
 * long, so a key taken out of the JWKS stops being honoured as soon as it did without this cache.
 */
const VERIFIED_TOKEN_MAX_AGE_MS = 10 * 60_000;

/**
 * Verifies bearer tokens against the configured JWKS URL, or against the local issuer's keys when none is
 * configured. Keys never come from the token itself.
 *
 * A token that passed is remembered, by its whole text (signature included), until its expiry at the latest,
 * so that a client's next requests skip the signature check (the largest CPU cost of a request). Nothing else
 * changes: access is decided from the database on every request, and a token past its expiry is checked again
 * and refused.
 */
export function createTokenVerifier(
  config: AuthConfig,
  localJwks: { keys: JWK[] } | undefined,
  /** A second issuer the local keys sign for: the embedded OpenID provider's (PUBLIC_URL, src/signin/). */
  localProviderIssuer?: string,
): TokenVerifier {
  let keys: JWTVerifyGetKey;
  if (config.jwksUrl) keys = createRemoteJWKSet(new URL(config.jwksUrl));
  else if (localJwks) keys = createLocalJWKSet(localJwks);
  else throw new Error('No JWKS URL configured and no local issuer');
  const verified = createLruCache<Principal>(VERIFIED_TOKENS);

  return async (token) => {
    const now = Date.now();
    const known = verified.get(token, now);
    if (known) return known;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        algorithms: ALLOWED_ALGORITHMS,
        issuer: localProviderIssuer && !config.jwksUrl ? [config.issuer, localProviderIssuer] : config.issuer,
        audience: config.audience,
        clockTolerance: config.clockToleranceSeconds,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      throw unauthorized(describeVerificationFailure(error));
    }
    refuseImplausibleTimes(payload, now, config);
    // Shared by every request that presents the token: frozen, as its roles are read-only.
    const principal = Object.freeze(toPrincipal(payload, config.claims));
    // exp is required and checked above; a token inside the clock tolerance past it is not remembered.
    const until = Math.min(Number(payload.exp) * 1000, now + VERIFIED_TOKEN_MAX_AGE_MS);
    if (until > now) verified.set(token, principal, until);
    return principal;
  };
}

/**
 * jose checks `exp` and `nbf` but neither when the token says it was issued nor how long it lasts: a token issued
 * in the future, or one that lasts for centuries, is a forged or mis-issued one (docs/operations.md, "Tokens and claims").
 */
function refuseImplausibleTimes(payload: JWTPayload, nowMs: number, config: AuthConfig): void {
  const now = Math.floor(nowMs / 1000);
  const tolerance = config.clockToleranceSeconds;
  const expiry = Number(payload.exp);
  if (payload.iat !== undefined && payload.iat > now + tolerance) {
    throw unauthorized('The token\'s "iat" claim is in the future.');
  }
  // Without iat the lifetime left counts; the issuer's clock may run ahead of ours by the tolerance.
  const lifetime = payload.iat === undefined ? expiry - now - tolerance : expiry - payload.iat;
  if (lifetime > config.maxTokenLifetimeSeconds) {
    throw unauthorized(
      `The token lasts longer than the ${config.maxTokenLifetimeSeconds} s this service accepts (exp − iat).`,
    );
  }
}

function describeVerificationFailure(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'The token has expired.';
  if (error instanceof errors.JWTClaimValidationFailed)
    return `The token's "${error.claim}" claim is not valid.`;
  if (error instanceof errors.JOSEAlgNotAllowed)
    return 'The token is signed with an algorithm that is not allowed.';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'The token signature is not valid.';
  if (error instanceof errors.JWKSNoMatchingKey) return 'The token is signed with an unknown key.';
  return 'The token is not valid.';
}

function toPrincipal(payload: JWTPayload, claims: AuthConfig['claims']): Principal {
  const userId = payload[claims.userId] ?? payload[claims.userIdFallback];
  if (typeof userId !== 'string' || userId === '') throw unauthorized('The token names no user.');
  const organization = payload[claims.organization];
  if (typeof organization !== 'string' || organization === '') {
    throw unauthorized('The token names no organization.');
  }
  // Both are looked up in the database, which cannot hold NUL or an unpaired surrogate.
  if (!isStorableText(userId))
    throw unauthorized("The token's user claim holds characters that are not allowed.");
  if (!isStorableText(organization)) {
    throw unauthorized("The token's organization claim holds characters that are not allowed.");
  }
  const confirmation = payload.cnf as { jkt?: unknown } | undefined;
  return {
    userId,
    identityOrganizationId: organization,
    roles: readRoles(payload[claims.roles]),
    dpopKey: typeof confirmation?.jkt === 'string' ? confirmation.jkt : undefined,
  };
}

/** Roles as an array of strings, or of objects with a `key` (as Kinde issues them). */
function readRoles(claim: unknown): ReadonlySet<string> {
  const roles = new Set<string>();
  if (!Array.isArray(claim)) return roles;
  for (const role of claim) {
    if (typeof role === 'string') roles.add(role);
    else if (role && typeof role === 'object' && typeof (role as { key?: unknown }).key === 'string') {
      roles.add((role as { key: string }).key);
    }
  }
  return roles;
}
