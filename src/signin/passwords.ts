// Password hashing with scrypt, its checks and the rules a new password must meet.
import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Passwords are hashed with node:crypto's scrypt, r = 8 and p = 1, cost N = 2^log2N (PASSWORD_SCRYPT_LOG2_N,
 * default 17: OWASP's Password Storage Cheat Sheet; about 128 MiB and a fraction of a second per hash), a random
 * 16-byte salt and a 32-byte result. The parameters are stored with each hash, so that a later change of the cost
 * leaves existing passwords valid.
 */
const R = 8;
const P = 1;
const KEY_LENGTH = 32;

/** NIST SP 800-63B-4, 3.1.1.2: at least 15 characters for a password that is the only factor; 64 or more allowed. */
export const MIN_PASSWORD_LENGTH = 15;
const MAX_PASSWORD_LENGTH = 256;

/**
 * The most common passwords (the 49 233 entries of @zxcvbn-ts/language-common's "passwords-common", MIT, drawn
 * from leaked password lists), compared in lower case. Loaded with the first password set: the package holds every
 * dictionary of zxcvbn, which a service that never sets a password would keep in memory for nothing (decision 48).
 */
let commonPasswords: Promise<ReadonlySet<string>> | undefined;
function loadCommonPasswords(): Promise<ReadonlySet<string>> {
  commonPasswords ??= import('@zxcvbn-ts/language-common').then(
    ({ dictionary }) => new Set(dictionary['passwords-common'].map((entry) => entry.toLowerCase())),
  );
  return commonPasswords;
}

function scryptAsync(password: string, salt: Buffer, log2N: number): Promise<Buffer> {
  const options: ScryptOptions = { N: 2 ** log2N, r: R, p: P, maxmem: 256 * 2 ** log2N * R };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, options, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string, log2N: number): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, log2N);
  return `scrypt$${log2N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** Compares in constant time; a hash in an unknown format never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, log2N, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || Number(r) !== R || Number(p) !== P || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64url');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64url'), Number(log2N));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A trailing run of digits and symbols: what people add to a common password to pass a length rule. */
const TRAILING_DIGITS_AND_SYMBOLS = /[\p{N}\p{P}\p{S}\s]+$/u;

/**
 * Why a new password is refused, or undefined when it is acceptable. Its length is what the person typed (code
 * points before NFKC, which can turn one character into several); it is common when it is on the list, or is
 * once a trailing run of digits and symbols is taken off (`password1234567`).
 */
export async function passwordProblem(password: string, email: string): Promise<string | undefined> {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH)
    return `The password must be at least ${MIN_PASSWORD_LENGTH} characters long.`;
  if (length > MAX_PASSWORD_LENGTH)
    return `The password must be at most ${MAX_PASSWORD_LENGTH} characters long.`;
  const lower = password.toLowerCase();
  const base = lower.replace(TRAILING_DIGITS_AND_SYMBOLS, '');
  const common = await loadCommonPasswords();
  if (common.has(lower) || common.has(base))
    return 'This password is one of the most commonly used; choose another.';
  if (lower === email.toLowerCase() || /^(.)\1+$/.test(password))
    return 'This password is too easy to guess; choose another.';
  return undefined;
}
