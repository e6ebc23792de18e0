// The ID-token signing key (RS256) of the embedded provider, kept sealed in the database for every replica.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Db } from '../db/database.js';

/** What OpenID Connect requires a provider to offer for ID tokens (Core 15.1), and the clients' default. */
export const ID_TOKEN_ALGORITHM = 'RS256';
const MODULUS_BITS = 2048;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The provider's RS256 key for ID tokens: made once by the first process that needs it and stored sealed
 * (AES-256-GCM under a key derived from the local issuer's secret root, which a key rotation keeps), so that replicas, which share the issuer
 * key file and the database, sign with the same key. A key sealed under another issuer key (the file was replaced)
 * cannot be opened: it is replaced once, and every process then reads the replacement.
 */
export async function idTokenSigningKey(db: Db, secretRoot: Buffer): Promise<JWK> {
  const sealingKey = Buffer.from(hkdfSync('sha256', secretRoot, 'salesreps', 'id token signing key', 32));
  const stored = await db
    .selectFrom('signin_signing_key')
    .select('sealed_jwk')
    .where('alg', '=', ID_TOKEN_ALGORITHM)
    .executeTakeFirst();
  const opened = stored && unseal(sealingKey, stored.sealed_jwk);
  if (opened) return opened;

  const fresh = seal(sealingKey, await newKey());
  const written = stored
    ? await db
        .updateTable('signin_signing_key')
        .set({ sealed_jwk: fresh, created_at: new Date() })
        .where('alg', '=', ID_TOKEN_ALGORITHM)
        .where('sealed_jwk', '=', stored.sealed_jwk)
        .returning('sealed_jwk')
        .executeTakeFirst()
    : await db
        .insertInto('signin_signing_key')
        .values({ alg: ID_TOKEN_ALGORITHM, sealed_jwk: fresh })
        .onConflict((conflict) => conflict.column('alg').doNothing())
        .returning('sealed_jwk')
        .executeTakeFirst();
  if (written) return unseal(sealingKey, fresh) as JWK;
  // Another process stored its key first: that one is every process's.
  const winner = await db
    .selectFrom('signin_signing_key')
    .select('sealed_jwk')
    .where('alg', '=', ID_TOKEN_ALGORITHM)
    .executeTakeFirstOrThrow();
  const key = unseal(sealingKey, winner.sealed_jwk);
  if (!key) throw new Error('The ID-token signing key is sealed under another issuer key');
  return key;
}

async function newKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair(ID_TOKEN_ALGORITHM, {
    extractable: true,
    modulusLength: MODULUS_BITS,
  });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: `id-token-${Date.now().toString(36)}`, alg: ID_TOKEN_ALGORITHM, use: 'sig' };
}

function seal(key: Buffer, jwk: JWK): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const sealed = Buffer.concat([cipher.update(JSON.stringify(jwk), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url');
}

/** The JWK, or undefined when it was sealed under another key (its authentication tag does not match). */
function unseal(key: Buffer, text: string): JWK | undefined {
  const bytes = Buffer.from(text, 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  try {
    const plain = Buffer.concat([
      decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)),
      decipher.final(),
    ]);
    return JSON.parse(plain.toString('utf8')) as JWK;
  } catch {
    return undefined;
  }
}
