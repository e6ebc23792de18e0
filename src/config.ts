import { isIP } from 'node:net';
import path from 'node:path';

/** Every setting of the service, read once from the environment and validated at start. */
export interface Config {
  host: string;
  port: number;
  /** The service's address as people and relying parties reach it: the issuer, and the base of every mail link. */
  publicUrl: string;
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
  effects: EffectsConfig;
  /** Waits this long for a PostgreSQL connection, then the request fails with 503. */
  databaseConnectTimeoutMs: number;
  /** The longest a statement may run on PostgreSQL (statement_timeout); the client gives up a second later. */
  databaseStatementTimeoutMs: number;
  /** How often the service vacuums and analyses the embedded database's tables itself; 0: never. */
  embeddedVacuumIntervalMs: number;
  http: HttpConfig;
  /** SIGTERM waits this long for in-flight work before closing connections anyway. */
  shutdownTimeoutMs: number;
  metrics: MetricsConfig;
  /** Events are deleted this many days after they occurred (docs/events.md). */
  eventsRetentionDays: number;
  webhooks: {
    /** WEBHOOKS_ALLOW_PRIVATE_NETWORKS: http, and loopback, private and link-local addresses, allowed. */
    allowPrivateNetworks: boolean;
  };
  signin: SigninConfig;
  /** The web console's client at an external provider (AUTH_JWKS_URL); the embedded sign-in has its own built in. */
  console: { clientId: string | undefined; issuer: string | undefined; scope: string; audience: string };
}

/** The embedded OpenID Connect provider and its invitation links (docs/signin.md). */
export interface SigninConfig {
  /** Served only with IDP=local and no AUTH_JWKS_URL: elsewhere sign-in happens at the external provider. */
  enabled: boolean;
  invitationTtlHours: number;
  /** Password reset links last this long. */
  resetTtlMinutes: number;
  /** scrypt's cost N = 2^log2N (r = 8, p = 1); 17 is OWASP's recommendation, lower only for tests. */
  scryptLog2N: number;
  /** The lifetime of access tokens: how long a deactivated admin keeps access at most (reps are refused at once). */
  accessTokenTtlSeconds: number;
}

/** Limits and time-outs of the HTTP server (docs/operations-hardening.md). */
export interface HttpConfig {
  rateLimit: {
    /** Requests per window for each authenticated user and organization, or each address before that. */
    max: number;
    windowMs: number;
    /** Shares the counts between replicas; without it each process counts on its own. */
    redisUrl: string | undefined;
  };
  /** Origins whose browser pages may call the API; empty: no CORS headers at all. `*` admits any origin. */
  corsOrigins: string[];
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** The proxies in front of the service, whose X-Forwarded-For is believed: off, a hop count, or addresses. */
  trustProxy: boolean | number | string;
}

/** Where GET /metrics is served: its own port, the public port behind a bearer token, both, or neither. */
export interface MetricsConfig {
  port: number | undefined;
  token: string | undefined;
}

/** The effect workers and the systems they talk to (docs/effects.md). */
export interface EffectsConfig {
  retryBaseMs: number;
  retryMaxMs: number;
  maxAttempts: number;
  /** How often an idle worker looks for due effects: a new effect is picked up within this time. */
  pollMs: number;
  /** How long a claimed effect is held before another worker may take it over (longer than any call). */
  leaseMs: number;
  /** Effects carried out at once by one process (each of a different rep). */
  concurrency: number;
  /** The time-out of every call to the identity provider, the mail server and the webhook. */
  callTimeoutMs: number;
  /** Done effects are deleted this many days after they finished; dead ones after `deadRetentionDays`. */
  retentionDays: number;
  deadRetentionDays: number;
  kinde: { domain: string; clientId: string; clientSecret: string; audience: string } | undefined;
  mail: { transport: 'file'; directory: string } | { transport: 'smtp'; url: string };
  mailFrom: string;
  /** The login link of the emails; `{org}` is replaced by the organization's identity organization id. */
  loginUrl: string;
  sync: { url: string; secret: string } | undefined;
}

export interface AuthConfig {
  /** A JWKS URL of the identity provider; when absent the built-in local issuer signs and verifies. */
  jwksUrl: string | undefined;
  issuer: string;
  audience: string;
  /** The local issuer's private key (JWK), created on first use. */
  localKeyFile: string;
  clockToleranceSeconds: number;
  /** The longest a token may last (exp − iat, or exp − now without iat); a longer one is refused. */
  maxTokenLifetimeSeconds: number;
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
  const host = text(env, 'HOST', '127.0.0.1');
  const port = integer(env, 'PORT', 3000, 0, 65535);
  const publicUrl = publicUrlOf(env, host, port);
  const jwksUrl = url(env, 'AUTH_JWKS_URL', ['https:', 'http:']);
  return {
    host,
    port,
    publicUrl,
    dataDir,
    databaseUrl,
    databasePoolSize: integer(env, 'DATABASE_POOL_SIZE', 10, 1, 1000),
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
    bodyLimitBytes: integer(env, 'BODY_LIMIT_BYTES', 64 * 1024, 1024, 16 * 1024 * 1024),
    demo: flag(env, 'DEMO', databaseUrl === undefined),
    identityProvider: oneOf(env, 'IDP', ['local', 'kinde'], 'local'),
    effects: effectsConfig(env, dataDir, publicUrl),
    databaseConnectTimeoutMs: integer(env, 'DATABASE_CONNECT_TIMEOUT_MS', 2000, 100, 60_000),
    databaseStatementTimeoutMs: integer(env, 'DATABASE_STATEMENT_TIMEOUT_MS', 5000, 100, 600_000),
    embeddedVacuumIntervalMs: integer(env, 'EMBEDDED_VACUUM_INTERVAL_MS', 600_000, 0, 86_400_000),
    http: httpConfig(env),
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 25_000, 0, 600_000),
    metrics: metricsConfig(env),
    eventsRetentionDays: integer(env, 'EVENTS_RETENTION_DAYS', 365, 1, 36_500),
    webhooks: { allowPrivateNetworks: flag(env, 'WEBHOOKS_ALLOW_PRIVATE_NETWORKS', false) },
    signin: {
      enabled: oneOf(env, 'IDP', ['local', 'kinde'], 'local') === 'local' && jwksUrl === undefined,
      invitationTtlHours: integer(env, 'INVITATION_TTL_HOURS', 168, 1, 24 * 90),
      resetTtlMinutes: integer(env, 'PASSWORD_RESET_TTL_MINUTES', 60, 5, 24 * 60),
      scryptLog2N: integer(env, 'PASSWORD_SCRYPT_LOG2_N', 17, 14, 20),
      accessTokenTtlSeconds: integer(env, 'SIGNIN_ACCESS_TOKEN_TTL_SECONDS', 900, 60, 86_400),
    },
    console: consoleConfig(env),
    auth: {
      jwksUrl,
      issuer: text(env, 'AUTH_ISSUER', 'salesreps-local'),
      audience: text(env, 'AUTH_AUDIENCE', 'salesreps-api'),
      localKeyFile: path.resolve(text(env, 'AUTH_LOCAL_KEY_FILE', path.join(dataDir, 'issuer-key.json'))),
      clockToleranceSeconds: integer(env, 'AUTH_CLOCK_TOLERANCE_SECONDS', 30, 0, 30),
      maxTokenLifetimeSeconds: integer(env, 'AUTH_MAX_TOKEN_LIFETIME_SECONDS', 86_400, 300, 2_592_000),
      claims: {
        userId: text(env, 'AUTH_CLAIM_USER_ID', 'UserId'),
        userIdFallback: text(env, 'AUTH_CLAIM_USER_ID_FALLBACK', 'sub'),
        organization: text(env, 'AUTH_CLAIM_ORGANIZATION', 'org_code'),
        roles: text(env, 'AUTH_CLAIM_ROLES', 'roles'),
      },
    },
  };
}

/**
 * The console's client at an external provider and that provider's issuer (its discovery document): by default
 * AUTH_ISSUER, the issuer the API's tokens carry, which for Kinde is its domain URL.
 */
function consoleConfig(env: Env): Config['console'] {
  const clientId = optionalText(env, 'CONSOLE_OIDC_CLIENT_ID');
  const authIssuer = optionalText(env, 'AUTH_ISSUER');
  const issuer =
    url(env, 'CONSOLE_OIDC_ISSUER', ['https:', 'http:']) ??
    (authIssuer && /^https?:\/\//.test(authIssuer)
      ? url(env, 'AUTH_ISSUER', ['https:', 'http:'])
      : undefined);
  if (clientId && !issuer) {
    throw new ConfigError('CONSOLE_OIDC_CLIENT_ID needs CONSOLE_OIDC_ISSUER (or AUTH_ISSUER as a URL)');
  }
  return {
    clientId,
    issuer,
    // Kinde issues a refresh token for `offline`, and puts the API's audience into the token when asked for it.
    scope: text(env, 'CONSOLE_OIDC_SCOPE', 'openid email offline'),
    audience: text(env, 'CONSOLE_OIDC_AUDIENCE', text(env, 'AUTH_AUDIENCE', 'salesreps-api')),
  };
}

function required(env: Env, name: string, because: string): string {
  const value = optionalText(env, name);
  if (value === undefined) throw new ConfigError(`${name} is required ${because}`);
  return value;
}

function requiredUrl(env: Env, name: string, because: string, protocols: readonly string[]): string {
  required(env, name, because);
  return url(env, name, protocols) as string;
}

/**
 * PUBLIC_URL, or http://HOST:PORT (localhost when HOST listens on every address), without a trailing slash: it
 * becomes the OpenID issuer, which must match exactly what relying parties are given.
 */
function publicUrlOf(env: Env, host: string, port: number): string {
  const configured = url(env, 'PUBLIC_URL', ['https:', 'http:']);
  if (configured !== undefined) {
    const parsed = new URL(configured);
    if (parsed.search || parsed.hash) throw new ConfigError('PUBLIC_URL must have no query or fragment');
    return configured.replace(/\/+$/, '');
  }
  const name = ['0.0.0.0', '::', ''].includes(host) ? 'localhost' : isIP(host) === 6 ? `[${host}]` : host;
  return `http://${name}:${port}`;
}

function effectsConfig(env: Env, dataDir: string, publicUrl: string): EffectsConfig {
  const retryBaseMs = integer(env, 'EFFECTS_RETRY_BASE_MS', 1000, 1, 3_600_000);
  const retryMaxMs = integer(env, 'EFFECTS_RETRY_MAX_MS', 300_000, 1, 86_400_000);
  if (retryMaxMs < retryBaseMs) {
    throw new ConfigError(
      `EFFECTS_RETRY_MAX_MS (${retryMaxMs}) must not be below EFFECTS_RETRY_BASE_MS (${retryBaseMs})`,
    );
  }
  const callTimeoutMs = integer(env, 'EFFECTS_CALL_TIMEOUT_MS', 15_000, 100, 300_000);
  const leaseMs = integer(env, 'EFFECTS_LEASE_MS', 120_000, 1000, 3_600_000);
  if (leaseMs <= callTimeoutMs * 3) {
    throw new ConfigError(
      `EFFECTS_LEASE_MS (${leaseMs}) must exceed three times EFFECTS_CALL_TIMEOUT_MS (${callTimeoutMs}): an effect's calls share a deadline of half the lease, which must hold at least one full call`,
    );
  }
  const idp = oneOf(env, 'IDP', ['local', 'kinde'], 'local');
  const kindeDomain = idp === 'kinde' ? required(env, 'KINDE_DOMAIN', 'when IDP=kinde') : undefined;
  const mail = oneOf(env, 'MAIL', ['file', 'smtp'], 'file');
  const sync = oneOf(env, 'SYNC', ['none', 'webhook'], 'none');
  const loginUrl = text(env, 'LOGIN_URL', `${publicUrl}/signin?org={org}`);
  try {
    new URL(loginUrl.replaceAll('{org}', 'org'));
  } catch {
    throw new ConfigError('LOGIN_URL must be a URL (it may hold {org})');
  }
  const webhookSecret = sync === 'webhook' ? required(env, 'SYNC_WEBHOOK_SECRET', 'when SYNC=webhook') : '';
  if (sync === 'webhook' && !/^whsec_[A-Za-z0-9+/]+={0,2}$/.test(webhookSecret)) {
    throw new ConfigError('SYNC_WEBHOOK_SECRET must be a Standard Webhooks secret: "whsec_" and base64');
  }
  return {
    retryBaseMs,
    retryMaxMs,
    maxAttempts: integer(env, 'EFFECTS_MAX_ATTEMPTS', 20, 1, 1000),
    pollMs: integer(env, 'EFFECTS_POLL_MS', 500, 10, 1000),
    leaseMs,
    concurrency: integer(env, 'EFFECTS_CONCURRENCY', 32, 1, 100),
    callTimeoutMs,
    retentionDays: integer(env, 'EFFECTS_RETENTION_DAYS', 30, 1, 36_500),
    deadRetentionDays: integer(env, 'EFFECTS_DEAD_RETENTION_DAYS', 90, 1, 36_500),
    kinde: kindeDomain
      ? {
          domain: kindeUrl(kindeDomain),
          clientId: required(env, 'KINDE_CLIENT_ID', 'when IDP=kinde'),
          clientSecret: required(env, 'KINDE_CLIENT_SECRET', 'when IDP=kinde'),
          audience: text(env, 'KINDE_AUDIENCE', `${kindeUrl(kindeDomain)}/api`),
        }
      : undefined,
    mail:
      mail === 'smtp'
        ? { transport: 'smtp', url: requiredUrl(env, 'SMTP_URL', 'when MAIL=smtp', ['smtp:', 'smtps:']) }
        : { transport: 'file', directory: path.join(dataDir, 'mail') },
    mailFrom: text(env, 'MAIL_FROM', 'Sales Reps <no-reply@localhost>'),
    loginUrl,
    sync:
      sync === 'webhook'
        ? {
            url: requiredUrl(env, 'SYNC_WEBHOOK_URL', 'when SYNC=webhook', ['https:', 'http:']),
            secret: webhookSecret,
          }
        : undefined,
  };
}

/** KINDE_DOMAIN as a base URL: "acme.kinde.com" means https://acme.kinde.com. */
function kindeUrl(domain: string): string {
  const withScheme = /^https?:\/\//.test(domain) ? domain : `https://${domain}`;
  try {
    return new URL(withScheme).origin;
  } catch {
    throw new ConfigError('KINDE_DOMAIN must be a host name such as acme.kinde.com, or an https URL');
  }
}

function httpConfig(env: Env): HttpConfig {
  const requestTimeoutMs = integer(env, 'REQUEST_TIMEOUT_MS', 30_000, 1000, 600_000);
  const headersTimeoutMs = integer(env, 'HEADERS_TIMEOUT_MS', 10_000, 1000, 600_000);
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError(
      `HEADERS_TIMEOUT_MS (${headersTimeoutMs}) must not exceed REQUEST_TIMEOUT_MS (${requestTimeoutMs})`,
    );
  }
  return {
    rateLimit: {
      max: integer(env, 'RATE_LIMIT_MAX', 600, 1, 1_000_000),
      windowMs: integer(env, 'RATE_LIMIT_WINDOW_MS', 60_000, 1000, 86_400_000),
      redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    },
    corsOrigins: corsOrigins(env),
    requestTimeoutMs,
    headersTimeoutMs,
    keepAliveTimeoutMs: integer(env, 'KEEP_ALIVE_TIMEOUT_MS', 75_000, 1000, 600_000),
    trustProxy: trustProxy(env),
  };
}

function corsOrigins(env: Env): string[] {
  const raw = optionalText(env, 'CORS_ORIGINS');
  if (raw === undefined) return [];
  const origins = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (origins.includes('*')) {
    if (origins.length > 1) throw new ConfigError('CORS_ORIGINS must be "*" alone or a list of origins');
    return origins;
  }
  for (const origin of origins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.origin !== origin) {
      throw new ConfigError(
        `CORS_ORIGINS must list origins such as https://app.example.com (scheme, host, optional port; no path or trailing slash), got "${origin}"`,
      );
    }
  }
  return origins;
}

function trustProxy(env: Env): boolean | number | string {
  const raw = optionalText(env, 'TRUST_PROXY');
  if (raw === undefined || ['false', 'no', 'off', '0'].includes(raw.toLowerCase())) return false;
  if (['true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
  if (/^\d+$/.test(raw)) return integer(env, 'TRUST_PROXY', 0, 0, 100);
  const addresses = raw.split(',').map((entry) => entry.trim());
  for (const address of addresses) {
    const [ip, prefix] = address.split('/');
    if (!ip || isIP(ip) === 0 || (prefix !== undefined && !/^\d{1,3}$/.test(prefix))) {
      throw new ConfigError(
        `TRUST_PROXY must be true, false, a hop count, or proxy addresses/CIDRs separated by commas, got "${address}"`,
      );
    }
  }
  return addresses.join(',');
}

function metricsConfig(env: Env): MetricsConfig {
  const token = optionalText(env, 'METRICS_TOKEN');
  if (token !== undefined && token.length < 16) {
    throw new ConfigError(
      'METRICS_TOKEN must be at least 16 characters (it guards /metrics on the public port)',
    );
  }
  const port = env.METRICS_PORT?.trim() ? integer(env, 'METRICS_PORT', 0, 0, 65535) : undefined;
  return { port, token };
}
