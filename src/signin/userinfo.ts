// The userinfo endpoint's rule: the claims of the person an access token of the embedded provider stands for.
import { createLocalJWKSet, errors, type JWK, type JWTPayload, jwtVerify } from 'jose';
import type { ProofCheck } from '../auth/dpop.js';
import type { AuthConfig } from '../config.js';
import type { Db } from '../db/database.js';
import { ProblemError } from '../kernel/problem.js';
import { accountEmail } from './queries.js';

/** An answer of the userinfo endpoint: the claims, or an OAuth error with its challenge (RFC 6750, section 3). */
interface UserinfoAnswer {
  status: 200 | 401 | 403;
  body: Record<string, string>;
  /** WWW-Authenticate of a refusal. */
  challenge?: string;
}

/** What a userinfo request presents. */
interface UserinfoRequest {
  authorization: string | undefined;
  dpop: string | string[] | undefined;
  method: string;
  path: string;
}

export type Userinfo = (request: UserinfoRequest) => Promise<UserinfoAnswer>;

/**
 * Userinfo for the access tokens the provider issues. They are JWTs for the API (resource indicator PUBLIC_URL/api),
 * which oidc-provider's own userinfo refuses (it answers only tokens without an audience, kept in its store); so
 * this answers them: a token signed by the local issuer's key, issued by the provider (`iss` PUBLIC_URL, `typ`
 * at+jwt) to a client (`client_id`) with the `openid` scope, gives `sub`, and `email` when that scope was granted.
 * A DPoP-bound token is taken with its proof, as the API takes it.
 */
export function createUserinfo(deps: {
  db: Db;
  publicUrl: string;
  auth: AuthConfig;
  jwks: { keys: JWK[] };
  checkProof: ProofCheck;
}): Userinfo {
  const keys = createLocalJWKSet(deps.jwks);
  return async (request) => {
    const [, scheme, token] =
      /^(Bearer|DPoP) ([A-Za-z0-9\-._~+/]+=*)$/i.exec(request.authorization ?? '') ?? [];
    // RFC 6750, 3.1: a request without a token is told the scheme, with no error code.
    if (!scheme || !token) {
      return {
        status: 401,
        body: {
          error: 'invalid_request',
          error_description: 'Send the access token as Authorization: Bearer.',
        },
        challenge: 'Bearer',
      };
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        algorithms: ['ES256'],
        typ: 'at+jwt',
        issuer: deps.publicUrl,
        audience: deps.auth.audience,
        clockTolerance: deps.auth.clockToleranceSeconds,
        requiredClaims: ['exp', 'sub', 'client_id', 'scope'],
      }));
    } catch (error) {
      return invalidToken(
        error instanceof errors.JWTExpired
          ? 'The access token has expired.'
          : 'The access token is not one this provider issued to a client.',
      );
    }
    try {
      await deps.checkProof({
        scheme: scheme.toLowerCase() === 'dpop' ? 'dpop' : 'bearer',
        token,
        boundKey: (payload.cnf as { jkt?: string } | undefined)?.jkt,
        method: request.method,
        path: request.path,
        proof: request.dpop,
      });
    } catch (error) {
      if (!(error instanceof ProblemError)) throw error;
      const challenge = error.headers['www-authenticate'] ?? 'DPoP';
      return {
        status: 401,
        body: {
          error: /invalid_dpop_proof/.test(challenge) ? 'invalid_dpop_proof' : 'invalid_token',
          error_description: error.detail,
        },
        challenge,
      };
    }
    const scopes = new Set(String(payload.scope).split(' '));
    if (!scopes.has('openid')) {
      return {
        status: 403,
        body: { error: 'insufficient_scope', error_description: 'The access token lacks the openid scope.' },
        challenge: 'Bearer error="insufficient_scope", scope="openid"',
      };
    }
    const sub = String(payload.sub);
    const email = await accountEmail(deps.db, sub);
    if (email === undefined) return invalidToken('The account of the access token no longer exists.');
    return { status: 200, body: scopes.has('email') ? { sub, email } : { sub } };
  };
}

function invalidToken(description: string): UserinfoAnswer {
  return {
    status: 401,
    body: { error: 'invalid_token', error_description: description },
    challenge: `Bearer error="invalid_token", error_description="${description}"`,
  };
}
