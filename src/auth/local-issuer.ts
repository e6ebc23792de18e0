// The local token issuer: an ES256 key pair under DATA_DIR that signs tokens and serves its JWKS.
import fs from 'node:fs';
import path from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import type { AuthConfig } from '../config.js';
import { PRIVATE_DIRECTORY_MODE, PRIVATE_FILE_MODE } from '../kernel/private-files.js';

const ALGORITHM = 'ES256';

/**
 * The built-in token issuer of the embedded default: one ES256 key pair kept in a file under DATA_DIR, its
 * public half served as a JWKS. It needs nothing but that file, so tokens can be minted while a server runs.
 */
export interface LocalIssuer {
  jwks: { keys: JWK[] };
  /** The private key itself, for the embedded OpenID provider that signs with it (src/signin/). */
  privateJwk: JWK;
  sign(claims: TokenClaims, ttlSeconds: number): Promise<string>;
}

interface TokenClaims {
  userId: string;
  organization: string;
  roles: string[];
}

async function readOrCreatePrivateJwk(file: string): Promise<JWK> {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as JWK;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const { privateKey } = await generateKeyPair(ALGORITHM, { extractable: true });
  const jwk = await exportJWK(privateKey);
  jwk.kid = `local-${Date.now().toString(36)}`;
  jwk.alg = ALGORITHM;
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  try {
    // 'wx': of two processes creating the key at once, one writes it and the other reads that one.
    fs.writeFileSync(file, JSON.stringify(jwk), { flag: 'wx', mode: PRIVATE_FILE_MODE });
    return jwk;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return JSON.parse(fs.readFileSync(file, 'utf8')) as JWK;
  }
}

export async function openLocalIssuer(config: AuthConfig): Promise<LocalIssuer> {
  const privateJwk = await readOrCreatePrivateJwk(config.localKeyFile);
  const privateKey = await importJWK(privateJwk, ALGORITHM);
  const { d: _private, ...publicJwk } = privateJwk;
  const kid = privateJwk.kid ?? 'local';
  return {
    jwks: { keys: [{ ...publicJwk, use: 'sig', alg: ALGORITHM, kid }] },
    privateJwk: { ...privateJwk, use: 'sig', alg: ALGORITHM, kid },
    sign: (claims, ttlSeconds) =>
      new SignJWT({
        [config.claims.userId]: claims.userId,
        [config.claims.organization]: claims.organization,
        [config.claims.roles]: claims.roles,
      })
        .setProtectedHeader({ alg: ALGORITHM, kid, typ: 'JWT' })
        .setSubject(claims.userId)
        .setIssuer(config.issuer)
        .setAudience(config.audience)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(privateKey),
  };
}
