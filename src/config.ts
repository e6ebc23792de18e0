import path from 'node:path';

/** Every setting of the service, read once from the environment and validated at start. */
export interface Config {
  host: string;
  port: number;
  /** Where the embedded database, the local issuer's key and written mail live. */
  dataDir: string;
  /** A PostgreSQL server; when absent the embedded PGlite database under `dataDir` is used. */
  databaseUrl: string | undefined;
  databasePoolSize: number;
  logLevel: string;
  bodyLimitBytes: number;
  /** Creates the demo organization on first start (default: on for the embedded database only). */
  demo: boolean;
  auth: AuthConfig;
  identityProvider: 'local' | 'kinde';
}

export interface AuthConfig {
  /** A JWKS URL of the identity provider; when absent the built-in local issuer signs and verifies. */
  jwksUrl: string | undefined;
  issuer: string;
  audience: string;
  /** The local issuer's private key (JWK), created on first use. */
  localKeyFile: string;
  clockToleranceSeconds: number;
  claims: { userId: string; userIdFallback: string; organization: string; roles: string };
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function text(env: Env, name: string, fallback: string): string {
  const value = env[name]?.trim();
  return value ? value : fallback;
}

function optionalText(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const found = allowed.find((value) => value === raw);
  if (!found) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  return found;
}

function url(env: Env, name: string, protocols: readonly string[]): string | undefined {
  const raw = optionalText(env, name);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be a URL`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name} must be a ${protocols.join(' or ')} URL`);
  }
  return raw;
}

export function loadConfig(env: Env = process.env): Config {
  const dataDir = path.resolve(text(env, 'DATA_DIR', './data'));
  const databaseUrl = url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']);
  return {
    host: text(env, 'HOST', '127.0.0.1'),
    port: integer(env, 'PORT', 3000, 0, 65535),
    dataDir,
    databaseUrl,
    databasePoolSize: integer(env, 'DATABASE_POOL_SIZE', 10, 1, 1000),
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
    bodyLimitBytes: integer(env, 'BODY_LIMIT_BYTES', 64 * 1024, 1024, 16 * 1024 * 1024),
    demo: flag(env, 'DEMO', databaseUrl === undefined),
    identityProvider: oneOf(env, 'IDP', ['local', 'kinde'], 'local'),
    auth: {
      jwksUrl: url(env, 'AUTH_JWKS_URL', ['https:', 'http:']),
      issuer: text(env, 'AUTH_ISSUER', 'salesreps-local'),
      audience: text(env, 'AUTH_AUDIENCE', 'salesreps-api'),
      localKeyFile: path.resolve(text(env, 'AUTH_LOCAL_KEY_FILE', path.join(dataDir, 'issuer-key.json'))),
      clockToleranceSeconds: integer(env, 'AUTH_CLOCK_TOLERANCE_SECONDS', 30, 0, 30),
      claims: {
        userId: text(env, 'AUTH_CLAIM_USER_ID', 'UserId'),
        userIdFallback: text(env, 'AUTH_CLAIM_USER_ID_FALLBACK', 'sub'),
        organization: text(env, 'AUTH_CLAIM_ORGANIZATION', 'org_code'),
        roles: text(env, 'AUTH_CLAIM_ROLES', 'roles'),
      },
    },
  };
}
