// The service's settings: every environment variable declared once, with its type, default, range and meaning.
import { type Static, type StringOptions, type TSchema, Type } from '@sinclair/typebox';

/**
 * What a setting's schema carries besides JSON Schema. `loadConfig` reads the conditions and URL schemes; the
 * documentation (`npm run config:docs`) shows the texts.
 */
interface SettingAnnotations {
  /** The URL schemes accepted, as `URL.protocol` says them (`https:`); the value must parse as a URL. */
  protocols?: readonly string[];
  /** The default as the documentation shows it, when it is derived from other settings. */
  defaultText?: string;
  /** The accepted values as the documentation shows them, when the type alone says too little. */
  accepts?: string;
  /** The message when the value breaks `pattern` or `minLength`. */
  errorMessage?: string;
  /** `NAME=value`: read, and then required, only while that setting (declared before) has that value. */
  requiredWhen?: string;
  /** `NAME=value`: read only while that setting (declared before) has that value. */
  readWhen?: string;
}

/** A setting's schema as `loadConfig` and the documentation read it. */
export type SettingSchema = TSchema & SettingAnnotations;

const url = (protocols: readonly string[], options: StringOptions & SettingAnnotations) =>
  Type.Optional(Type.String({ ...options, protocols }));
const web = ['https:', 'http:'];

const ServerSettings = Type.Object(
  {
    HOST: Type.String({
      default: '127.0.0.1',
      description: 'address to listen on (`0.0.0.0` in a container)',
    }),
    PORT: Type.Integer({
      minimum: 0,
      maximum: 65535,
      default: 3000,
      description: 'HTTP port (`0`: any free port; the log line `Server listening at …` says which)',
    }),
    DATA_DIR: Type.String({
      default: './data',
      description:
        'the embedded database (`pglite/`), its lock, the local issuer key, the SSO encryption keys, written mail (`mail/`); all owner-only (0700/0600, `docs/operations-hardening.md`)',
    }),
    DATABASE_URL: url(['postgres:', 'postgresql:'], {
      description: 'a PostgreSQL server; without it, the embedded database in `DATA_DIR`',
    }),
    DATABASE_DIRECT_URL: url(['postgres:', 'postgresql:'], {
      description:
        "the same PostgreSQL reached directly, not through PgBouncer in transaction mode, for what a pooled connection cannot carry: the effect workers' `LISTEN`; default `DATABASE_URL`",
    }),
    DATABASE_POOL_SIZE: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 10,
      description: 'connections per process to PostgreSQL',
    }),
    DATABASE_CONNECT_TIMEOUT_MS: Type.Integer({
      minimum: 100,
      maximum: 60_000,
      default: 2000,
      description: 'wait for a PostgreSQL connection, then the request answers 503',
    }),
    DATABASE_STATEMENT_TIMEOUT_MS: Type.Integer({
      minimum: 100,
      maximum: 600_000,
      default: 5000,
      description:
        'a statement still running then is cancelled on the server (also through PgBouncer); the client gives up 1 s later',
    }),
    EMBEDDED_VACUUM_INTERVAL_MS: Type.Integer({
      minimum: 0,
      maximum: 86_400_000,
      default: 600_000,
      description:
        'the embedded database only (PGlite runs no autovacuum): how often the service vacuums and analyses each table itself, one table at a time; `0`: never',
    }),
    LOG_LEVEL: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
      { default: 'info', description: 'pino level' },
    ),
    BODY_LIMIT_BYTES: Type.Integer({
      minimum: 1024,
      maximum: 16 * 1024 * 1024,
      default: 64 * 1024,
      description: 'largest request body (413 beyond)',
    }),
    DEMO: Type.Optional(
      Type.Boolean({
        defaultText: '`true` on the embedded database, `false` with `DATABASE_URL`',
        description:
          'on the first start with an empty database, create the demo organization and write an Admin token to `DATA_DIR/demo.txt`',
      }),
    ),
    MIGRATE: Type.Boolean({
      default: true,
      description:
        '`false`: `serve` and the commands only check the schema, and refuse to start while one of its migrations is missing; `salesreps migrate` applies them',
    }),
    SHUTDOWN_TIMEOUT_MS: Type.Integer({
      minimum: 0,
      maximum: 600_000,
      default: 25_000,
      description: 'how long SIGTERM waits for in-flight requests and effects',
    }),
    RATE_LIMIT_MAX: Type.Integer({
      minimum: 1,
      maximum: 1_000_000,
      default: 600,
      description:
        'requests per window per user and organization (per address before authentication); 429 beyond',
    }),
    RATE_LIMIT_WINDOW_MS: Type.Integer({
      minimum: 1000,
      maximum: 86_400_000,
      default: 60_000,
      description: "the rate limit's window",
    }),
    REDIS_URL: url(['redis:', 'rediss:'], {
      description: 'rate-limit counts shared by replicas; without it each process counts alone',
    }),
    CORS_ORIGINS: Type.Optional(
      Type.String({
        defaultText: '— (CORS closed)',
        accepts: 'origins such as `https://app.example.com`, comma-separated, or `*` alone',
        description: 'browser origins allowed to call the API',
      }),
    ),
    TRUST_PROXY: Type.Optional(
      Type.String({
        defaultText: 'off',
        accepts: '`false`, a hop count (0–100), or proxy addresses/CIDRs, comma-separated; `true` is refused',
        description:
          'the proxies whose `X-Forwarded-For` (and `X-Forwarded-Proto`) is believed: the client is the address the last trusted proxy saw, never the left-most entry a client can write',
      }),
    ),
    REQUEST_TIMEOUT_MS: Type.Integer({
      minimum: 1000,
      maximum: 600_000,
      default: 30_000,
      description: 'the longest a request may take to arrive',
    }),
    HEADERS_TIMEOUT_MS: Type.Integer({
      minimum: 1000,
      maximum: 600_000,
      default: 10_000,
      description: "the longest a request's headers may take to arrive; at most `REQUEST_TIMEOUT_MS`",
    }),
    KEEP_ALIVE_TIMEOUT_MS: Type.Integer({
      minimum: 1000,
      maximum: 600_000,
      default: 75_000,
      description: 'how long an idle kept-alive connection stays open',
    }),
    METRICS_PORT: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 65535,
        defaultText: '— (no metrics)',
        description: 'serve `GET /metrics` on this port of its own',
      }),
    ),
    METRICS_TOKEN: Type.Optional(
      Type.String({
        minLength: 16,
        errorMessage: 'METRICS_TOKEN must be at least 16 characters (it guards /metrics on the public port)',
        accepts: '16 characters or more',
        description: 'serve `GET /metrics` on the public port to this bearer token',
      }),
    ),
  },
  { title: 'Server and database' },
);

const TokenSettings = Type.Object(
  {
    AUTH_JWKS_URL: url(web, {
      description: "the identity provider's JWKS; without it, the built-in local issuer signs and verifies",
    }),
    AUTH_ISSUER: Type.String({
      default: 'salesreps-local',
      description: 'the `iss` every token must carry (the local issuer writes it too)',
    }),
    AUTH_AUDIENCE: Type.String({ default: 'salesreps-api', description: 'the `aud` every token must carry' }),
    AUTH_LOCAL_KEY_FILE: Type.Optional(
      Type.String({
        defaultText: '`DATA_DIR/issuer-key.json`',
        description:
          "the local issuer's private ES256 keys (JWK), created on first use with mode 0600; `salesreps keys rotate` adds one",
      }),
    ),
    AUTH_CLOCK_TOLERANCE_SECONDS: Type.Integer({
      minimum: 0,
      maximum: 30,
      default: 30,
      description: 'leeway for `exp` and `nbf` (more is refused: the contract caps it at 30 s)',
    }),
    AUTH_MAX_TOKEN_LIFETIME_SECONDS: Type.Integer({
      minimum: 300,
      maximum: 2_592_000,
      default: 86_400,
      description:
        'the longest lifetime a token may have (`exp` − `iat`, or `exp` − now without `iat`); an `iat` in the future is refused',
    }),
    AUTH_CLAIM_USER_ID: Type.String({
      default: 'UserId',
      description: "claim holding the identity provider's user id",
    }),
    AUTH_CLAIM_USER_ID_FALLBACK: Type.String({
      default: 'sub',
      description: 'claim read when the user claim is absent',
    }),
    AUTH_CLAIM_ORGANIZATION: Type.String({
      default: 'org_code',
      description: 'claim holding the identity organization id (the tenant)',
    }),
    AUTH_CLAIM_ROLES: Type.String({ default: 'roles', description: 'claim holding the roles' }),
  },
  { title: 'Tokens' },
);

const EffectSettings = Type.Object(
  {
    IDP: Type.Union([Type.Literal('local'), Type.Literal('kinde')], {
      default: 'local',
      description: 'the identity provider: `local` (accounts kept in the database) or `kinde`',
    }),
    KINDE_DOMAIN: Type.Optional(
      Type.String({
        requiredWhen: 'IDP=kinde',
        accepts: '`acme.kinde.com` or an https URL',
        description: "the Kinde business's domain",
      }),
    ),
    KINDE_CLIENT_ID: Type.Optional(
      Type.String({ requiredWhen: 'IDP=kinde', description: "the Management API client's id" }),
    ),
    KINDE_CLIENT_SECRET: Type.Optional(
      Type.String({ requiredWhen: 'IDP=kinde', description: "the Management API client's secret" }),
    ),
    KINDE_AUDIENCE: Type.Optional(
      Type.String({
        readWhen: 'IDP=kinde',
        defaultText: '`<KINDE_DOMAIN>/api`',
        description: 'audience of the Management API token',
      }),
    ),
    MAIL: Type.Union([Type.Literal('file'), Type.Literal('smtp')], {
      default: 'file',
      description:
        '`file` writes `.eml` files (and a `.txt` copy) under `DATA_DIR/mail`, named by recipient and time; `smtp` sends through `SMTP_URL`',
    }),
    SMTP_URL: url(['smtp:', 'smtps:'], { requiredWhen: 'MAIL=smtp', description: 'the mail server' }),
    MAIL_FROM: Type.String({
      default: 'Sales Reps <no-reply@localhost>',
      description: 'sender of the emails',
    }),
    LOGIN_URL: Type.Optional(
      Type.String({
        defaultText: '`PUBLIC_URL/signin?org={org}`',
        accepts: 'a URL, which may hold `{org}`',
        description:
          'the login link in invitation mails when sign-in is external (`AUTH_JWKS_URL`, Kinde); `{org}` becomes the identity organization id',
      }),
    ),
    PUBLIC_URL: url(web, {
      defaultText: '`http://HOST:PORT`',
      accepts: 'an `https://` or `http://` URL without query or fragment',
      description:
        'the address people and relying parties use: the OpenID issuer, the base of every mail link (`docs/signin.md`) and of SCIM, `PUBLIC_URL/scim/v2` (`docs/scim.md`); `localhost` when `HOST` is `0.0.0.0`; set it with `PORT=0`',
    }),
    INVITATION_TTL_HOURS: Type.Integer({
      minimum: 1,
      maximum: 24 * 90,
      default: 168,
      description: 'an invitation link works once, this long after its mail',
    }),
    PASSWORD_RESET_TTL_MINUTES: Type.Integer({
      minimum: 5,
      maximum: 24 * 60,
      default: 60,
      description: 'a password reset link works once, this long',
    }),
    PASSWORD_SCRYPT_LOG2_N: Type.Integer({
      minimum: 14,
      maximum: 20,
      default: 17,
      description: 'scrypt N = 2^value, r = 8, p = 1 for password hashes (`docs/signin.md`)',
    }),
    SIGNIN_ACCESS_TOKEN_TTL_SECONDS: Type.Integer({
      minimum: 60,
      maximum: 86_400,
      default: 900,
      description: "lifetime of the embedded sign-in's access tokens (`docs/signin.md`)",
    }),
    SSO_ALLOW_PRIVATE_NETWORKS: Type.Boolean({
      default: false,
      description:
        "`true`: an enterprise connection's identity provider may use `http`, loopback, private and link-local addresses (tests, an IdP inside your network; `docs/sso.md`)",
    }),
    SSO_ENCRYPTION_KEYS: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9_-]{43}(,[A-Za-z0-9_-]{43})*$',
        errorMessage: 'must be one or more base64url keys of 32 bytes, separated by commas',
        accepts: 'base64url keys of 32 bytes, comma-separated',
        defaultText: 'the keys in `SSO_ENCRYPTION_KEY_FILE`',
        description:
          "encrypt the enterprise connections' client secrets (AES-256-GCM): the first encrypts, every one decrypts (rotation, `docs/sso.md`)",
      }),
    ),
    SSO_ENCRYPTION_KEY_FILE: Type.Optional(
      Type.String({
        defaultText: '`DATA_DIR/sso-encryption-keys`',
        description:
          'where the keys are kept when `SSO_ENCRYPTION_KEYS` is not set: one per line, the first encrypts; created owner-only (0600) with one new key on first use',
      }),
    ),
    CONSOLE_OIDC_CLIENT_ID: Type.Optional(
      Type.String({
        description:
          "the web console's client at an external provider (with `AUTH_JWKS_URL`; `docs/console.md`)",
      }),
    ),
    CONSOLE_OIDC_ISSUER: url(web, {
      defaultText: '`AUTH_ISSUER` when it is a URL',
      description: "that provider's issuer (its discovery document); needed with `CONSOLE_OIDC_CLIENT_ID`",
    }),
    CONSOLE_OIDC_SCOPE: Type.String({
      default: 'openid email offline',
      description: "the console's scopes at an external provider",
    }),
    CONSOLE_OIDC_AUDIENCE: Type.Optional(
      Type.String({
        defaultText: '`AUTH_AUDIENCE`',
        description: "the console's `audience` parameter at an external provider",
      }),
    ),
    SYNC: Type.Union([Type.Literal('none'), Type.Literal('webhook')], {
      default: 'none',
      description: '`webhook`: a Standard Webhooks signed POST per change',
    }),
    SYNC_WEBHOOK_SECRET: Type.Optional(
      Type.String({
        requiredWhen: 'SYNC=webhook',
        pattern: '^whsec_[A-Za-z0-9+/]+={0,2}$',
        errorMessage: 'SYNC_WEBHOOK_SECRET must be a Standard Webhooks secret: "whsec_" and base64',
        accepts: '`whsec_` and base64',
        description: "the data sync's signing secret (Standard Webhooks)",
      }),
    ),
    SYNC_WEBHOOK_URL: url(web, { requiredWhen: 'SYNC=webhook', description: 'where the data sync POSTs' }),
    EFFECTS_RETRY_BASE_MS: Type.Integer({
      minimum: 1,
      maximum: 3_600_000,
      default: 1000,
      description: 'the first delay of the exponential backoff with jitter',
    }),
    EFFECTS_RETRY_MAX_MS: Type.Integer({
      minimum: 1,
      maximum: 86_400_000,
      default: 300_000,
      description: 'the longest delay of the backoff; at least `EFFECTS_RETRY_BASE_MS`',
    }),
    EFFECTS_MAX_ATTEMPTS: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 20,
      description: 'attempts before an effect is `dead`',
    }),
    EFFECTS_POLL_MS: Type.Integer({
      minimum: 10,
      maximum: 60_000,
      default: 500,
      description:
        'how often an idle worker looks for due effects: the longest wait for a retry that came due, and for a new effect when no notification reaches the worker',
    }),
    EFFECTS_LISTEN: Type.Boolean({
      default: true,
      description:
        "on PostgreSQL, wake every replica's worker when a change that recorded effects commits (`LISTEN` on `DATABASE_DIRECT_URL`); `false` behind PgBouncer in transaction mode with no direct connection: other replicas then find new effects at their poll",
    }),
    EFFECTS_LEASE_MS: Type.Integer({
      minimum: 1000,
      maximum: 3_600_000,
      default: 120_000,
      description: 'how long a claimed effect is held; more than 3 × `EFFECTS_CALL_TIMEOUT_MS`',
    }),
    EFFECTS_CONCURRENCY: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 32,
      description: 'effects carried out at once per process',
    }),
    EFFECTS_CALL_TIMEOUT_MS: Type.Integer({
      minimum: 100,
      maximum: 300_000,
      default: 15_000,
      description: 'time-out of each call to the identity provider, the mail server, the webhook',
    }),
    EFFECTS_RETENTION_DAYS: Type.Integer({
      minimum: 1,
      maximum: 36_500,
      default: 30,
      description: 'done effects are deleted this many days after they finished (hourly, in batches)',
    }),
    EFFECTS_DEAD_RETENTION_DAYS: Type.Integer({
      minimum: 1,
      maximum: 36_500,
      default: 90,
      description: 'dead effects are deleted this many days after they died (hourly, in batches)',
    }),
    EVENTS_RETENTION_DAYS: Type.Integer({
      minimum: 1,
      maximum: 36_500,
      default: 365,
      description:
        'events (the audit log, `docs/events.md`) are deleted this many days after they occurred (hourly, in batches)',
    }),
    WEBHOOKS_ALLOW_PRIVATE_NETWORKS: Type.Boolean({
      default: false,
      description:
        '`true`: event webhooks may use `http`, loopback, private and link-local addresses, and ports other than 443 and 8443 (tests, deliveries inside your network)',
    }),
  },
  { title: 'Effects (identity provider, mail, data sync)' },
);

const TraceSettings = Type.Object(
  {
    OTEL_EXPORTER_OTLP_ENDPOINT: url(web, {
      defaultText: '— (no traces)',
      accepts: 'an OTLP/HTTP receiver such as `http://collector:4318`',
      description:
        'export traces (OpenTelemetry) there, to `/v1/traces`; without it no span is made and nothing of OpenTelemetry is loaded (`docs/operations.md`, "Traces")',
    }),
    OTEL_EXPORTER_OTLP_PROTOCOL: Type.Union([Type.Literal('http/protobuf'), Type.Literal('http/json')], {
      default: 'http/protobuf',
      description:
        'how the spans are sent to `OTEL_EXPORTER_OTLP_ENDPOINT`: OTLP over HTTP, as protobuf or JSON',
    }),
    OTEL_SERVICE_NAME: Type.String({
      default: 'salesreps',
      minLength: 1,
      errorMessage: 'OTEL_SERVICE_NAME must not be empty',
      description: "the spans' `service.name` (more resource attributes: `OTEL_RESOURCE_ATTRIBUTES`)",
    }),
  },
  { title: 'Traces (OpenTelemetry)' },
);

/** The settings' groups, named as the documentation's markers name them. */
export const settingGroups = {
  server: ServerSettings,
  tokens: TokenSettings,
  effects: EffectSettings,
  traces: TraceSettings,
};

export const Settings = Type.Object({
  ...ServerSettings.properties,
  ...TokenSettings.properties,
  ...EffectSettings.properties,
  ...TraceSettings.properties,
});

/** The environment read and validated variable by variable, before any rule that joins several. */
export type Settings = Static<typeof Settings>;
