// Encryption at rest of the connections' secrets: AES-256-GCM under keys that are never in the database.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PRIVATE_DIRECTORY_MODE, PRIVATE_FILE_MODE } from '../kernel/private-files.js';

/** Where the keys come from: SSO_ENCRYPTION_KEYS, or the key file (created with one new key on first use). */
export interface SecretKeySource {
  encryptionKeys: string[] | undefined;
  keyFile: string;
}

export interface SecretBox {
  /**
   * `v1.<key id>.<iv>.<tag>.<ciphertext>` (base64url), under the first key, bound to `context` (the row it is
   * kept in), so that a sealed secret copied into another row does not open there.
   */
  seal(plaintext: string, context: string): string;
  /** The plaintext, under whichever of the keys sealed it; throws SecretKeyMissingError when none of them did. */
  open(sealed: string, context: string): string;
  /** Whether the first key sealed it (a rotation re-seals the others). */
  sealedByCurrentKey(sealed: string): boolean;
}

/** A secret sealed under a key the service no longer has (SSO_ENCRYPTION_KEYS or the key file lost it). */
class SecretKeyMissingError extends Error {}

const KEY_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** A key's id: the first bytes of its SHA-256, so a sealed secret names its key without revealing it. */
function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 8);
}

function readOrCreateKeyFile(file: string): string[] {
  const read = () =>
    fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
  try {
    return read();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  try {
    // 'wx': of two processes creating the file at once, one writes it and the other reads that one.
    fs.writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, {
      flag: 'wx',
      mode: PRIVATE_FILE_MODE,
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return read();
}

/**
 * The secret box of the enterprise connections. The keys are read on first use (a service that never stores a
 * secret creates no key file); the first key seals, every key opens, so a key is rotated by putting a new one first
 * and re-sealing (`salesreps sso reseal`) before the old one is taken away (docs/sso.md).
 */
export function createSecretBox(source: SecretKeySource): SecretBox {
  let keys: { id: string; key: Buffer }[] | undefined;
  const loaded = () => {
    if (keys) return keys;
    const texts = source.encryptionKeys ?? readOrCreateKeyFile(source.keyFile);
    if (texts.length === 0 || texts.some((text) => !KEY_PATTERN.test(text))) {
      throw new SecretKeyMissingError(
        `The SSO encryption keys (${source.encryptionKeys ? 'SSO_ENCRYPTION_KEYS' : source.keyFile}) must be base64url keys of 32 bytes, one per line.`,
      );
    }
    keys = texts.map((text) => {
      const key = Buffer.from(text, 'base64url');
      return { id: keyId(key), key };
    });
    return keys;
  };
  const current = () => loaded()[0] as { id: string; key: Buffer };
  return {
    seal(plaintext, context) {
      const { id, key } = current();
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v1', id, iv, cipher.getAuthTag(), ciphertext]
        .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
        .join('.');
    },
    open(sealed, context) {
      const [version, id, iv, tag, ciphertext] = sealed.split('.');
      const entry = loaded().find((candidate) => candidate.id === id);
      if (version !== 'v1' || !entry || iv === undefined || tag === undefined || ciphertext === undefined) {
        throw new SecretKeyMissingError(
          `A connection's secret is sealed under key ${id ?? '?'}, which is not among the SSO encryption keys.`,
        );
      }
      const decipher = createDecipheriv('aes-256-gcm', entry.key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      return Buffer.concat([
        decipher.update(Buffer.from(ciphertext, 'base64url')),
        decipher.final(),
      ]).toString('utf8');
    },
    sealedByCurrentKey(sealed) {
      return sealed.split('.')[1] === current().id;
    },
  };
}
