// DPoP (RFC 9449) at the resource: a bound access token is taken only with a fresh proof of its key, used once.
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, EmbeddedJWK, type JWTPayload, jwtVerify } from 'jose';
import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import { ProblemError } from '../kernel/problem.js';

/** The proof algorithms taken: those the embedded provider offers for DPoP (`dpop_signing_alg_values_supported`). */
const PROOF_ALGORITHMS = ['ES256', 'Ed25519', 'EdDSA'];
/** How long after its `iat` a proof is taken (RFC 9449, 11.1: a short window); its `jti` is kept as long. */
const PROOF_WINDOW_SECONDS = 60;
/** Expired proofs deleted by each statement that records one: the table stays as small as the window's traffic. */
const EXPIRED_PROOFS_DELETED_PER_PROOF = 100;

/** What a request presents: its Authorization scheme and token, the key the token is bound to, and its DPoP header. */
interface Presentation {
  scheme: 'bearer' | 'dpop';
  token: string;
  /** The token's `cnf.jkt`: the SHA-256 thumbprint of the key it is bound to, or undefined for a bearer token. */
  boundKey: string | undefined;
  method: string;
  /** The request's path (a query is ignored, as `htu` has none). */
  path: string;
  proof: string | string[] | undefined;
}

export type ProofCheck = (presentation: Presentation) => Promise<void>;

/** 401 with the DPoP challenge (RFC 9449, 7.1): `invalid_token` or `invalid_dpop_proof`. */
function dpopRefusal(error: 'invalid_token' | 'invalid_dpop_proof', detail: string): ProblemError {
  return new ProblemError(401, 'unauthorized', detail, undefined, {
    'www-authenticate': `DPoP error="${error}", error_description="${detail}", algs="${PROOF_ALGORITHMS.join(' ')}"`,
  });
}

/**
 * Checks the presentation of an access token against RFC 9449: a token bound to a key (`cnf.jkt`) only with the
 * DPoP scheme and a proof signed by that key, for this request's method and URL (under `publicUrl`), issued within
 * the window and covering this token (`ath`), whose `jti` no request used before — in the database, so across
 * replicas; an unbound token only as a bearer token. A bearer token passes untouched.
 */
export function createProofCheck(db: Db, publicUrl: string, clockToleranceSeconds: number): ProofCheck {
  return async (presented) => {
    if (presented.scheme === 'bearer') {
      if (presented.boundKey === undefined) return;
      throw dpopRefusal(
        'invalid_token',
        'The access token is bound to a DPoP key: send it as Authorization: DPoP with a DPoP proof.',
      );
    }
    if (presented.boundKey === undefined) {
      throw dpopRefusal(
        'invalid_token',
        'The access token is not DPoP-bound: send it as Authorization: Bearer.',
      );
    }
    if (typeof presented.proof !== 'string') throw dpopRefusal('invalid_dpop_proof', 'Send one DPoP proof.');
    let payload: JWTPayload;
    let keyThumbprint: string;
    try {
      // EmbeddedJWK takes the header's jwk, and only a public key.
      const verified = await jwtVerify(presented.proof, EmbeddedJWK, {
        typ: 'dpop+jwt',
        algorithms: PROOF_ALGORITHMS,
        requiredClaims: ['iat', 'jti', 'htm', 'htu'],
      });
      payload = verified.payload;
      keyThumbprint = await calculateJwkThumbprint(verified.protectedHeader.jwk ?? {}, 'sha256');
    } catch {
      throw dpopRefusal('invalid_dpop_proof', 'The DPoP proof is not a valid dpop+jwt signed by its jwk.');
    }
    if (keyThumbprint !== presented.boundKey) {
      throw dpopRefusal(
        'invalid_dpop_proof',
        'The DPoP proof is signed by another key than the token is bound to.',
      );
    }
    if (payload.htm !== presented.method) {
      throw dpopRefusal('invalid_dpop_proof', "The DPoP proof's htm is not this request's method.");
    }
    if (!sameResource(payload.htu, `${publicUrl}${presented.path.split('?')[0]}`)) {
      throw dpopRefusal('invalid_dpop_proof', "The DPoP proof's htu is not this request's URL.");
    }
    const now = Math.floor(Date.now() / 1000);
    const issuedAt = Number(payload.iat);
    if (
      issuedAt > now + clockToleranceSeconds ||
      issuedAt < now - PROOF_WINDOW_SECONDS - clockToleranceSeconds
    ) {
      throw dpopRefusal('invalid_dpop_proof', 'The DPoP proof was not issued just now (iat).');
    }
    if (payload.ath !== createHash('sha256').update(presented.token).digest('base64url')) {
      throw dpopRefusal('invalid_dpop_proof', "The DPoP proof's ath is not this access token's hash.");
    }
    const expiresAt = new Date((issuedAt + PROOF_WINDOW_SECONDS + 2 * clockToleranceSeconds) * 1000);
    if (!(await recordOnce(db, `${keyThumbprint}.${String(payload.jti)}`, expiresAt))) {
      throw dpopRefusal('invalid_dpop_proof', 'The DPoP proof was used before (jti).');
    }
  };
}

/** `htu` compared as a URL without query and fragment (RFC 9449, 4.3), so a default port or case does not matter. */
function sameResource(htu: unknown, expected: string): boolean {
  if (typeof htu !== 'string') return false;
  try {
    const url = new URL(htu);
    return `${url.origin}${url.pathname}` === new URL(expected).href;
  } catch {
    return false;
  }
}

/** Records a proof's key and jti until it expires; false when they were recorded already (a replay). */
async function recordOnce(db: Db, proofId: string, expiresAt: Date): Promise<boolean> {
  const key = createHash('sha256').update(proofId).digest('base64url');
  const recorded = await sql<{ key: string }>`
    with expired as (
      delete from dpop_proof
      where key in (select key from dpop_proof where expires_at < now() limit ${EXPIRED_PROOFS_DELETED_PER_PROOF})
    )
    insert into dpop_proof (key, expires_at) values (${key}, ${expiresAt})
    on conflict (key) do nothing
    returning key`.execute(db);
  return recorded.rows.length === 1;
}
