// The service's configuration: the environment read through the settings' schema, and the rules that join several.
import { isIP } from 'node:net';
import path from 'node:path';
import { KindGuard } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { type SettingSchema, Settings } from './config-schema.js';

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
  /** Where the effect workers LISTEN for new effects (a direct connection); undefined: they only poll. */
  databaseListenUrl: string | undefined;
  databasePoolSize: number;
  logLevel: string;
  bodyLimitBytes: number;
  /** Creates the demo organization on first start (default: on for the embedded database only). */
  demo: boolean;
  /** Whether `serve` and the commands bring the schema up to date; when not, they refuse a schema behind this release. */
  migrate: boolean;
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
  sso: SsoConfig;
  /** The web console's client at an external provider (AUTH_JWKS_URL); the embedded sign-in has its own built in. */
  console: { clientId: string | undefined; issuer: string | undefined; scope: string; audience: string };
  /** Where traces are exported (OpenTelemetry, docs/operations.md "Traces"); absent: no traces at all. */
  tracing: TracingConfig | undefined;
}

/** The OTLP/HTTP receiver the spans go to, and what they say of the service. */
export interface TracingConfig {
  /** The receiver's base URL; the spans go to its `/v1/traces`. */
  endpoint: string;
  protocol: 'http/protobuf' | 'http/json';
  serviceName: string;
}

/** The embedded OpenID Connect provider and its invitation links (docs/signin.md). */
interface SigninConfig {
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

/** Enterprise single sign-on (docs/sso.md). */
interface SsoConfig {
  /** Connections are the service's own only with the embedded sign-in; with AUTH_JWKS_URL they are that provider's. */
  enabled: boolean;
  /** SSO_ALLOW_PRIVATE_NETWORKS: http, and loopback, private and link-local addresses, allowed for an IdP. */
  allowPrivateNetworks: boolean;
  /** SSO_ENCRYPTION_KEYS, when set (base64url, the first encrypts); else the keys are read from `keyFile`. */
  encryptionKeys: string[] | undefined;
  keyFile: string;
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
  trustProxy: false | number | string;
}

/** Where GET /metrics is served: its own port, the public port behind a bearer token, both, or neither. */
interface MetricsConfig {
  port: number | undefined;
  token: string | undefined;
}

/** The effect workers and the systems they talk to (docs/effects.md). */
export interface EffectsConfig {
  retryBaseMs: number;
  retryMaxMs: number;
  maxAttempts: number;
  /** How often an idle worker looks for due effects (those of other replicas' changes, too, when it does not listen). */
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

/**
 * Each variable of the schema read and checked on its own: an empty value counts as unset; a bad one stops the
 * service with a message naming the variable.
 */
function readSettings(env: Env): Settings {
  const values: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries<SettingSchema>(Settings.properties)) {
    const condition = schema.requiredWhen ?? schema.readWhen;
    if (condition !== undefined && !holds(condition, values)) continue;
    const raw = env[name]?.trim();
    if (raw) values[name] = settingValue(name, schema, raw);
    else if (schema.requiredWhen !== undefined) {
      throw new ConfigError(`${name} is required when ${schema.requiredWhen}`);
    } else if (schema.default !== undefined) values[name] = schema.default;
  }
  Value.Assert(Settings, values);
  return values;
}

/** `NAME=value` against the settings read so far. */
function holds(condition: string, values: Record<string, unknown>): boolean {
  const [name, value] = condition.split('=');
  return name !== undefined && values[name] === value;
}

const TRUE = ['1', 'true', 'yes', 'on'];
const FALSE = ['0', 'false', 'no', 'off'];

function settingValue(name: string, schema: SettingSchema, raw: string): unknown {
  if (KindGuard.IsInteger(schema)) {
    const value = Number(raw);
    if (!Value.Check(schema, value)) {
      throw new ConfigError(
        `${name} must be an integer from ${schema.minimum} to ${schema.maximum}, got "${raw}"`,
      );
    }
    return value;
  }
  if (KindGuard.IsBoolean(schema)) {
    const word = raw.toLowerCase();
    if (TRUE.includes(word)) return true;
    if (FALSE.includes(word)) return false;
    throw new ConfigError(`${name} must be true or false, got "${word}"`);
  }
  if (KindGuard.IsUnion(schema)) {
    if (!Value.Check(schema, raw)) {
      const allowed = schema.anyOf.map((option) => (KindGuard.IsLiteral(option) ? option.const : ''));
      throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
    }
    return raw;
  }
  if (schema.protocols !== undefined) checkUrl(name, raw, schema.protocols);
  if (!Value.Check(schema, raw)) throw new ConfigError(schema.errorMessage ?? `${name} is not valid`);
  return raw;
}

function checkUrl(name: string, raw: string, protocols: readonly string[]): void {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be a URL`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name} must be a ${protocols.join(' or ')} URL`);
  }
}

export function loadConfig(env: Env = process.env): Config {
  const settings = readSettings(env);
  const dataDir = path.resolve(settings.DATA_DIR);
  const databaseUrl = settings.DATABASE_URL;
  const publicUrl = publicUrlOf(settings);
  return {
    host: settings.HOST,
    port: settings.PORT,
    publicUrl,
    dataDir,
    databaseUrl,
    databaseListenUrl: settings.EFFECTS_LISTEN ? (settings.DATABASE_DIRECT_URL ?? databaseUrl) : undefined,
    databasePoolSize: settings.DATABASE_POOL_SIZE,
    logLevel: settings.LOG_LEVEL,
    bodyLimitBytes: settings.BODY_LIMIT_BYTES,
    demo: settings.DEMO ?? databaseUrl === undefined,
    migrate: settings.MIGRATE,
    identityProvider: settings.IDP,
    effects: effectsConfig(settings, dataDir, publicUrl),
    databaseConnectTimeoutMs: settings.DATABASE_CONNECT_TIMEOUT_MS,
    databaseStatementTimeoutMs: settings.DATABASE_STATEMENT_TIMEOUT_MS,
    embeddedVacuumIntervalMs: settings.EMBEDDED_VACUUM_INTERVAL_MS,
    http: httpConfig(settings),
    shutdownTimeoutMs: settings.SHUTDOWN_TIMEOUT_MS,
    metrics: { port: settings.METRICS_PORT, token: settings.METRICS_TOKEN },
    eventsRetentionDays: settings.EVENTS_RETENTION_DAYS,
    webhooks: { allowPrivateNetworks: settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS },
    signin: {
      enabled: settings.IDP === 'local' && settings.AUTH_JWKS_URL === undefined,
      invitationTtlHours: settings.INVITATION_TTL_HOURS,
      resetTtlMinutes: settings.PASSWORD_RESET_TTL_MINUTES,
      scryptLog2N: settings.PASSWORD_SCRYPT_LOG2_N,
      accessTokenTtlSeconds: settings.SIGNIN_ACCESS_TOKEN_TTL_SECONDS,
    },
    sso: {
      enabled: settings.IDP === 'local' && settings.AUTH_JWKS_URL === undefined,
      allowPrivateNetworks: settings.SSO_ALLOW_PRIVATE_NETWORKS,
      encryptionKeys: settings.SSO_ENCRYPTION_KEYS?.split(','),
      keyFile: path.resolve(settings.SSO_ENCRYPTION_KEY_FILE ?? path.join(dataDir, 'sso-encryption-keys')),
    },
    console: consoleConfig(settings),
    tracing: settings.OTEL_EXPORTER_OTLP_ENDPOINT
      ? {
          endpoint: settings.OTEL_EXPORTER_OTLP_ENDPOINT,
          protocol: settings.OTEL_EXPORTER_OTLP_PROTOCOL,
          serviceName: settings.OTEL_SERVICE_NAME,
        }
      : undefined,
    auth: {
      jwksUrl: settings.AUTH_JWKS_URL,
      issuer: settings.AUTH_ISSUER,
      audience: settings.AUTH_AUDIENCE,
      localKeyFile: path.resolve(settings.AUTH_LOCAL_KEY_FILE ?? path.join(dataDir, 'issuer-key.json')),
      clockToleranceSeconds: settings.AUTH_CLOCK_TOLERANCE_SECONDS,
      maxTokenLifetimeSeconds: settings.AUTH_MAX_TOKEN_LIFETIME_SECONDS,
      claims: {
        userId: settings.AUTH_CLAIM_USER_ID,
        userIdFallback: settings.AUTH_CLAIM_USER_ID_FALLBACK,
        organization: settings.AUTH_CLAIM_ORGANIZATION,
        roles: settings.AUTH_CLAIM_ROLES,
      },
    },
  };
}

/**
 * The console's client at an external provider and that provider's issuer (its discovery document): by default
 * AUTH_ISSUER, the issuer the API's tokens carry, which for Kinde is its domain URL.
 */
function consoleConfig(settings: Settings): Config['console'] {
  const clientId = settings.CONSOLE_OIDC_CLIENT_ID;
  const authIssuer = settings.AUTH_ISSUER;
  let issuer = settings.CONSOLE_OIDC_ISSUER;
  if (issuer === undefined && /^https?:\/\//.test(authIssuer)) {
    checkUrl('AUTH_ISSUER', authIssuer, ['https:', 'http:']);
    issuer = authIssuer;
  }
  if (clientId && !issuer) {
    throw new ConfigError('CONSOLE_OIDC_CLIENT_ID needs CONSOLE_OIDC_ISSUER (or AUTH_ISSUER as a URL)');
  }
  return {
    clientId,
    issuer,
    // Kinde issues a refresh token for `offline`, and puts the API's audience into the token when asked for it.
    scope: settings.CONSOLE_OIDC_SCOPE,
    audience: settings.CONSOLE_OIDC_AUDIENCE ?? settings.AUTH_AUDIENCE,
  };
}

/**
 * PUBLIC_URL, or http://HOST:PORT (localhost when HOST listens on every address), without a trailing slash: it
 * becomes the OpenID issuer, which must match exactly what relying parties are given.
 */
function publicUrlOf(settings: Settings): string {
  const configured = settings.PUBLIC_URL;
  if (configured !== undefined) {
    const parsed = new URL(configured);
    if (parsed.search || parsed.hash) throw new ConfigError('PUBLIC_URL must have no query or fragment');
    return configured.replace(/\/+$/, '');
  }
  const host = settings.HOST;
  const name = ['0.0.0.0', '::', ''].includes(host) ? 'localhost' : isIP(host) === 6 ? `[${host}]` : host;
  return `http://${name}:${settings.PORT}`;
}

function effectsConfig(settings: Settings, dataDir: string, publicUrl: string): EffectsConfig {
  const retryBaseMs = settings.EFFECTS_RETRY_BASE_MS;
  const retryMaxMs = settings.EFFECTS_RETRY_MAX_MS;
  if (retryMaxMs < retryBaseMs) {
    throw new ConfigError(
      `EFFECTS_RETRY_MAX_MS (${retryMaxMs}) must not be below EFFECTS_RETRY_BASE_MS (${retryBaseMs})`,
    );
  }
  const callTimeoutMs = settings.EFFECTS_CALL_TIMEOUT_MS;
  const leaseMs = settings.EFFECTS_LEASE_MS;
  if (leaseMs <= callTimeoutMs * 3) {
    throw new ConfigError(
      `EFFECTS_LEASE_MS (${leaseMs}) must exceed three times EFFECTS_CALL_TIMEOUT_MS (${callTimeoutMs}): an effect's calls share a deadline of half the lease, which must hold at least one full call`,
    );
  }
  const loginUrl = settings.LOGIN_URL ?? `${publicUrl}/signin?org={org}`;
  try {
    new URL(loginUrl.replaceAll('{org}', 'org'));
  } catch {
    throw new ConfigError('LOGIN_URL must be a URL (it may hold {org})');
  }
  return {
    retryBaseMs,
    retryMaxMs,
    maxAttempts: settings.EFFECTS_MAX_ATTEMPTS,
    pollMs: settings.EFFECTS_POLL_MS,
    leaseMs,
    concurrency: settings.EFFECTS_CONCURRENCY,
    callTimeoutMs,
    retentionDays: settings.EFFECTS_RETENTION_DAYS,
    deadRetentionDays: settings.EFFECTS_DEAD_RETENTION_DAYS,
    kinde: kindeConfig(settings),
    mail:
      settings.MAIL === 'smtp' && settings.SMTP_URL !== undefined
        ? { transport: 'smtp', url: settings.SMTP_URL }
        : { transport: 'file', directory: path.join(dataDir, 'mail') },
    mailFrom: settings.MAIL_FROM,
    loginUrl,
    sync:
      settings.SYNC === 'webhook' && settings.SYNC_WEBHOOK_URL && settings.SYNC_WEBHOOK_SECRET
        ? { url: settings.SYNC_WEBHOOK_URL, secret: settings.SYNC_WEBHOOK_SECRET }
        : undefined,
  };
}

/** Kinde's Management API client; its variables are read (and required) only with IDP=kinde. */
function kindeConfig(settings: Settings): EffectsConfig['kinde'] {
  const { KINDE_DOMAIN, KINDE_CLIENT_ID, KINDE_CLIENT_SECRET } = settings;
  if (KINDE_DOMAIN === undefined || KINDE_CLIENT_ID === undefined || KINDE_CLIENT_SECRET === undefined) {
    return undefined;
  }
  const domain = kindeUrl(KINDE_DOMAIN);
  return {
    domain,
    clientId: KINDE_CLIENT_ID,
    clientSecret: KINDE_CLIENT_SECRET,
    audience: settings.KINDE_AUDIENCE ?? `${domain}/api`,
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

function httpConfig(settings: Settings): HttpConfig {
  const requestTimeoutMs = settings.REQUEST_TIMEOUT_MS;
  const headersTimeoutMs = settings.HEADERS_TIMEOUT_MS;
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError(
      `HEADERS_TIMEOUT_MS (${headersTimeoutMs}) must not exceed REQUEST_TIMEOUT_MS (${requestTimeoutMs})`,
    );
  }
  return {
    rateLimit: {
      max: settings.RATE_LIMIT_MAX,
      windowMs: settings.RATE_LIMIT_WINDOW_MS,
      redisUrl: settings.REDIS_URL,
    },
    corsOrigins: corsOrigins(settings.CORS_ORIGINS),
    requestTimeoutMs,
    headersTimeoutMs,
    keepAliveTimeoutMs: settings.KEEP_ALIVE_TIMEOUT_MS,
    trustProxy: trustProxy(settings.TRUST_PROXY),
  };
}

function corsOrigins(raw: string | undefined): string[] {
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

/**
 * `true` is refused: it would believe the left-most `X-Forwarded-For` entry, which the client writes itself even
 * behind a proxy that appends its own, so every per-address limit could be walked past.
 */
function trustProxy(raw: string | undefined): false | number | string {
  if (raw === undefined || ['false', 'no', 'off', '0'].includes(raw.toLowerCase())) return false;
  if (['true', 'yes', 'on'].includes(raw.toLowerCase())) {
    throw new ConfigError(
      `TRUST_PROXY=${raw} would believe any client's X-Forwarded-For: give the number of proxies in front (e.g. 1) or their addresses/CIDRs`,
    );
  }
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw);
    if (hops > 100) throw new ConfigError(`TRUST_PROXY must be an integer from 0 to 100, got "${raw}"`);
    return hops;
  }
  const addresses = raw.split(',').map((entry) => entry.trim());
  for (const address of addresses) {
    const [ip, prefix] = address.split('/');
    if (!ip || isIP(ip) === 0 || (prefix !== undefined && !/^\d{1,3}$/.test(prefix))) {
      throw new ConfigError(
        `TRUST_PROXY must be false, a hop count, or proxy addresses/CIDRs separated by commas, got "${address}"`,
      );
    }
  }
  return addresses.join(',');
}
