// The local token issuer: ES256 key pairs under DATA_DIR that sign tokens and serve as its JWKS, and their rotation.
import fs from 'node:fs';
import path from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import type { AuthConfig } from '../config.js';
import { PRIVATE_DIRECTORY_MODE, PRIVATE_FILE_MODE } from '../kernel/private-files.js';

const ALGORITHM = 'ES256';

/**
 * The built-in token issuer of the embedded default: ES256 key pairs kept in a file under DATA_DIR, the newest
 * signing, the public halves of those not yet retired served as a JWKS. It needs nothing but that file, so tokens
 * can be minted while a server runs.
 */
export interface LocalIssuer {
  jwks: { keys: JWK[] };
  /** The live private keys, the one that signs first, for the embedded OpenID provider, which signs with it too. */
  privateJwks: JWK[];
  /**
   * What the embedded sign-in derives its other secrets from (link tokens, cookie keys, the sealed ID-token key):
   * the same across a rotation, so that a new signing key voids no open link and ends no session.
   */
  secretRoot: Buffer;
  sign(claims: TokenClaims, ttlSeconds: number): Promise<string>;
}

interface TokenClaims {
  userId: string;
  organization: string;
  roles: string[];
}

/**
 * A key as the key file keeps it: a private JWK, and on a key that a rotation replaced, when it leaves the JWKS.
 * The file holds one such JWK (as every release before rotation wrote it), or `{ "keys": [...], "secret": ... }`,
 * newest first, where `secret` (base64url) is the root of the sign-in's derived secrets: the first rotation writes
 * there the private part of the key it replaces, which was that root until then.
 */
type StoredKey = JWK & { retiresAt?: string };
interface KeyFile {
  keys: StoredKey[];
  secret: string;
}

function parseKeyFile(text: string): KeyFile {
  const parsed = JSON.parse(text) as StoredKey | { keys: StoredKey[]; secret?: string };
  const keys = 'keys' in parsed && Array.isArray(parsed.keys) ? parsed.keys : [parsed as StoredKey];
  if (keys.length === 0 || keys.some((key) => typeof key.d !== 'string' || typeof key.x !== 'string')) {
    throw new Error('it holds no private EC key');
  }
  const secret = 'secret' in parsed && typeof parsed.secret === 'string' ? parsed.secret : keys[0]?.d;
  if (!secret) throw new Error('it holds no private EC key');
  return { keys, secret };
}

async function newPrivateJwk(): Promise<StoredKey> {
  const { privateKey } = await generateKeyPair(ALGORITHM, { extractable: true });
  const jwk = await exportJWK(privateKey);
  jwk.kid = `local-${Date.now().toString(36)}`;
  jwk.alg = ALGORITHM;
  return jwk;
}

async function readOrCreateKeys(file: string): Promise<KeyFile> {
  try {
    return parseKeyFile(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const jwk = await newPrivateJwk();
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  try {
    // 'wx': of two processes creating the key at once, one writes it and the other reads that one.
    fs.writeFileSync(file, JSON.stringify(jwk), { flag: 'wx', mode: PRIVATE_FILE_MODE });
    return { keys: [jwk], secret: jwk.d as string };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return parseKeyFile(fs.readFileSync(file, 'utf8'));
  }
}

/** A key as the issuer uses it: its stored members but the retirement, with its use, algorithm and id. */
function issuerJwk({ retiresAt: _retiresAt, ...jwk }: StoredKey): JWK {
  return { ...jwk, use: 'sig', alg: ALGORITHM, kid: jwk.kid ?? 'local' };
}

const isLive = (key: StoredKey, now: Date) =>
  key.retiresAt === undefined || Date.parse(key.retiresAt) > now.getTime();

/**
 * The issuer of the key file: it signs with the newest key and publishes every key not yet retired, so that the
 * tokens an older key signed keep verifying until they expire. A retired key is left out from the first start after
 * its retirement.
 */
export async function openLocalIssuer(config: AuthConfig, now = new Date()): Promise<LocalIssuer> {
  const file = await readOrCreateKeys(config.localKeyFile);
  const keys = file.keys.filter((key) => isLive(key, now)).map(issuerJwk);
  const [privateJwk] = keys;
  if (!privateJwk) throw new Error('every key in it is retired');
  const privateKey = await importJWK(privateJwk, ALGORITHM);
  const kid = privateJwk.kid;
  return {
    jwks: { keys: keys.map(({ d: _private, ...publicJwk }) => publicJwk) },
    privateJwks: keys,
    secretRoot: Buffer.from(file.secret, 'base64url'),
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

export interface Rotation {
  /** The new key's id: the one that signs from the next start on. */
  kid: string;
  /** The keys it replaces that are still published, and when each leaves the JWKS. */
  retiring: { kid: string; retiresAt: string }[];
}

/**
 * `salesreps keys rotate`: puts a new key first in the key file, gives every older key that has no retirement yet
 * one `retireAfterSeconds` from now, and drops the keys already retired. The file is replaced whole (written
 * beside it, then renamed), so a process starting meanwhile reads the old file or the new one.
 */
export async function rotateLocalIssuerKey(
  config: AuthConfig,
  retireAfterSeconds: number,
  now = new Date(),
): Promise<Rotation> {
  const file = config.localKeyFile;
  const retiresAt = new Date(now.getTime() + retireAfterSeconds * 1000).toISOString();
  const current = parseKeyFile(fs.readFileSync(file, 'utf8'));
  const older = current.keys
    .filter((key) => isLive(key, now))
    .map((key) => ({ ...key, retiresAt: key.retiresAt ?? retiresAt }));
  const newest = await newPrivateJwk();
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify({ keys: [newest, ...older], secret: current.secret }), {
    mode: PRIVATE_FILE_MODE,
  });
  fs.renameSync(temporary, file);
  return {
    kid: newest.kid as string,
    retiring: older.map((key) => ({ kid: key.kid ?? 'local', retiresAt: key.retiresAt })),
  };
}
