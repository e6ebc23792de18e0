import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROLE_ADMIN, ROLE_SALES_REP } from './auth/roles.js';
import { type Command, defineCommand, helpText, parseCommand, UsageError, usageLine } from './cli/args.js';
import type { Config } from './config.js';
import type { Db } from './db/database.js';
import type { VisibleEffectStatus } from './effects/queries.js';
import { EVENT_ACTIONS } from './events/actions.js';

// Each command imports the modules it runs only when it runs: `salesreps help` or `salesreps token` loads neither
// the server nor the database, and a database command not the server.

type ErrorClass = new (...args: never[]) => Error;

/**
 * The errors that are the user's to fix, answered by their message alone (exit status 2); a command adds those of
 * the modules it loads.
 */
const expectedErrors: ErrorClass[] = [UsageError];
/** A failed start (startup.js's StartupError, once loaded): its message, and exit status 1. */
const startupErrors: ErrorClass[] = [];

function expectErrors(...errors: ErrorClass[]): void {
  expectedErrors.push(...errors);
}

/** The configuration from the environment; a bad value is a ConfigError, the user's to fix. */
async function configuration(): Promise<Config> {
  const { ConfigError, loadConfig } = await import('./config.js');
  expectErrors(ConfigError);
  return loadConfig();
}

/** Runs the work on the configured database, its schema brought up to date first (or, with MIGRATE=false, checked). */
async function withDatabase<T>(
  config: Config,
  work: (db: Db) => Promise<T>,
  schema?: (config: Config, db: Db) => Promise<void>,
) {
  const [{ openDatabase }, { EmbeddedDatabaseBusyError }, { prepareSchema, StartupError }] =
    await Promise.all([import('./db/database.js'), import('./db/embedded-lock.js'), import('./startup.js')]);
  expectErrors(EmbeddedDatabaseBusyError);
  startupErrors.push(StartupError);
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: 2,
    // A migration's single statements (an index built on a large table) may need longer than a request's.
    statementTimeoutMs: config.databaseStatementTimeoutMs,
  });
  try {
    await (schema ?? prepareSchema)(config, database.db);
    return await work(database.db);
  } finally {
    await database.close();
  }
}

/** What `salesreps sso set` was told: an OpenID Connect client, or a SAML IdP's metadata by file or URL. */
type SsoSetInput = { org: string; domains: string[]; passwordSignIn: boolean } & (
  | { protocol: 'oidc'; issuer: string; clientId: string; secretFile: string }
  | { protocol: 'saml'; metadataFile: string }
  | { protocol: 'saml'; metadataUrl: string }
);

const print = (text: string): void => {
  process.stdout.write(`${text}\n`);
};
const TOKEN_ROLES = [ROLE_ADMIN, ROLE_SALES_REP];
const TTL_MAX_SECONDS = 30 * 24 * 3600;

/** A whole number within bounds, or a usage error naming the option. */
function wholeNumber(value: unknown, option: string, min: number, max: number): number {
  const number = Number(value);
  if (typeof value !== 'string' || !/^[0-9]+$/.test(value) || number < min || number > max) {
    throw new UsageError(`--${option} must be a whole number from ${min} to ${max}.`);
  }
  return number;
}

/** The configuration, refused when sign-in happens at an external provider (its invitations and clients are its own). */
async function signinConfig(): Promise<Config> {
  const [config, { SigninCommandError }] = await Promise.all([
    configuration(),
    import('./signin/service.js'),
  ]);
  expectErrors(SigninCommandError);
  if (!config.signin.enabled) {
    throw new SigninCommandError(
      'The embedded sign-in is off (IDP=kinde or AUTH_JWKS_URL): admins and clients are managed at that provider.',
    );
  }
  return config;
}

/** The configuration, refused when sign-in happens at an external provider (its connections are its own). */
async function ssoConfig(): Promise<Config> {
  const [config, { SsoCommandError }] = await Promise.all([configuration(), import('./sso/commands.js')]);
  expectErrors(SsoCommandError);
  if (!config.sso.enabled) {
    throw new SsoCommandError(
      'The embedded sign-in is off (IDP=kinde or AUTH_JWKS_URL): enterprise connections are set up at that provider.',
    );
  }
  return config;
}

async function backupCommands() {
  const [commands, { BackupFileError }] = await Promise.all([
    import('./backup/commands.js'),
    import('./backup/archive.js'),
  ]);
  expectErrors(commands.BackupCommandError, BackupFileError);
  return commands;
}

async function effectsCommands() {
  const commands = await import('./effects/commands.js');
  expectErrors(commands.EffectsCommandError);
  return commands;
}

async function eventsCommands() {
  const commands = await import('./events/commands.js');
  expectErrors(commands.EventsCommandError);
  return commands;
}

const text = (value: unknown) => (typeof value === 'string' ? value : undefined);

/** Every command; each parses and checks its arguments before it loads the configuration or opens a database. */
const COMMANDS: Command[] = [
  defineCommand({
    name: ['serve'],
    summary: 'Runs the HTTP service (what npm start runs) until SIGTERM or SIGINT.',
    options: {
      'no-migrate': {
        type: 'boolean',
        description:
          'as MIGRATE=false: leave the schema alone, and refuse to start while a migration is not applied',
      },
    },
    check: (values) => ({ noMigrate: values['no-migrate'] === true }),
    run: async ({ noMigrate }: { noMigrate: boolean }) => {
      const config = await configuration();
      const [{ serve }, { StartupError }, { EmbeddedDatabaseBusyError }] = await Promise.all([
        import('./main.js'),
        import('./startup.js'),
        import('./db/embedded-lock.js'),
      ]);
      startupErrors.push(StartupError);
      expectErrors(EmbeddedDatabaseBusyError);
      return serve(noMigrate ? { ...config, migrate: false } : config);
    },
  }),
  defineCommand({
    name: ['migrate'],
    summary:
      'Brings the database schema up to date, whatever MIGRATE says (serve does it too when it starts, unless MIGRATE=false).',
    options: {},
    check: () => ({}),
    run: async () => {
      // Its work is the migration itself, with no check of the schema before it.
      const { migrateToLatest } = await import('./db/database.js');
      const applied = await withDatabase(await configuration(), migrateToLatest, async () => {});
      print(
        applied.length
          ? `Applied ${applied.length} migration(s): ${applied.join(', ')}. The schema is up to date.`
          : 'The schema was up to date: no migration to apply.',
      );
    },
  }),
  defineCommand({
    name: ['backup'],
    summary:
      'Writes a consistent copy of the embedded database and the key files to FILE (owner-only), from the ' +
      'running service or, when none runs, from DATA_DIR itself. PostgreSQL: pg_dump (docs/operations.md).',
    options: {
      out: {
        type: 'string',
        value: 'FILE',
        required: true,
        description: 'the backup file, replaced if it exists',
      },
    },
    check: (values) => String(values.out),
    run: async (out: string) => {
      const { backupText } = await backupCommands();
      print(await backupText(await configuration(), out));
    },
  }),
  defineCommand({
    name: ['restore'],
    summary:
      'Restores a backup of salesreps backup into DATA_DIR, which must be empty or missing; then start the service.',
    options: {
      from: { type: 'string', value: 'FILE', required: true, description: 'the backup file' },
    },
    check: (values) => String(values.from),
    run: async (from: string) => {
      const { restoreText } = await backupCommands();
      print(await restoreText(await configuration(), from));
    },
  }),
  defineCommand({
    name: ['openapi'],
    summary: 'Prints the OpenAPI 3.1 document the service serves at /openapi.json; opens no database.',
    options: {},
    check: () => ({}),
    run: async () => {
      const { openApiDocument } = await import('./http/openapi-document.js');
      print(JSON.stringify(await openApiDocument(), null, 2));
    },
  }),
  defineCommand({
    name: ['org', 'create'],
    summary: 'Registers an organization and prints it as JSON.',
    options: {
      name: {
        type: 'string',
        value: 'NAME',
        required: true,
        description: 'its display name, 1–200 characters',
      },
      'identity-org': {
        type: 'string',
        value: 'ID',
        required: true,
        description: "its id at the identity provider (the tokens' org_code)",
      },
    },
    check: (values) => ({
      name: String(values.name),
      identityOrganizationId: String(values['identity-org']),
    }),
    run: async (input: { name: string; identityOrganizationId: string }) => {
      const { createOrganization, OrganizationInputError, toOrganizationView } = await import(
        './organizations/service.js'
      );
      expectErrors(OrganizationInputError);
      const organization = await withDatabase(await configuration(), (db) => createOrganization(db, input));
      print(JSON.stringify(toOrganizationView(organization), null, 2));
    },
  }),
  defineCommand({
    name: ['token'],
    summary:
      'Prints a token from the local issuer (needs only its key file, so it works while the server runs). ' +
      'Refused when AUTH_JWKS_URL is set.',
    options: {
      org: {
        type: 'string',
        value: 'IDENTITY_ORG_ID',
        required: true,
        description: "the token's organization",
      },
      user: { type: 'string', value: 'USER_ID', required: true, description: "the token's user" },
      role: {
        type: 'string',
        value: 'Admin|SalesRep',
        multiple: true,
        required: true,
        description: 'a role of the token',
      },
      ttl: {
        type: 'string',
        value: 'SECONDS',
        default: '3600',
        description: 'lifetime, 1 to 2592000 (30 days)',
      },
    },
    check: (values) => {
      const roles = (values.role as string[]) ?? [];
      const unknownRole = roles.find((role) => !TOKEN_ROLES.includes(role));
      if (unknownRole)
        throw new UsageError(`Unknown role "${unknownRole}": use ${TOKEN_ROLES.join(' or ')}.`);
      return {
        org: String(values.org),
        user: String(values.user),
        roles,
        ttl: wholeNumber(values.ttl, 'ttl', 1, TTL_MAX_SECONDS),
      };
    },
    run: async (input: { org: string; user: string; roles: string[]; ttl: number }) => {
      const config = await configuration();
      if (config.auth.jwksUrl) {
        throw new UsageError(
          'AUTH_JWKS_URL is set: tokens come from that identity provider, and the service would refuse one from the local issuer.',
        );
      }
      const maxTtl = config.auth.maxTokenLifetimeSeconds;
      if (input.ttl > maxTtl) {
        throw new UsageError(
          `--ttl must be a whole number of seconds from 1 to ${maxTtl} (AUTH_MAX_TOKEN_LIFETIME_SECONDS: the service refuses longer tokens).`,
        );
      }
      const { openLocalIssuer } = await import('./auth/local-issuer.js');
      const issuer = await openLocalIssuer(config.auth);
      print(
        await issuer.sign({ userId: input.user, organization: input.org, roles: input.roles }, input.ttl),
      );
    },
  }),
  defineCommand({
    name: ['keys', 'rotate'],
    summary:
      "Adds a new local issuer key, which signs from the service's next start; the older keys stay in the JWKS " +
      'until the tokens they signed have expired. Needs only the key file. Refused when AUTH_JWKS_URL is set.',
    options: {
      'retire-after': {
        type: 'string',
        value: 'SECONDS',
        description:
          'when the older keys leave the JWKS; default the longest token lifetime (0: at the next start, for a leaked key)',
      },
    },
    check: (values) => ({
      retireAfter:
        values['retire-after'] === undefined
          ? undefined
          : wholeNumber(values['retire-after'], 'retire-after', 0, TTL_MAX_SECONDS),
    }),
    run: async ({ retireAfter }: { retireAfter: number | undefined }) => {
      const config = await configuration();
      if (config.auth.jwksUrl) {
        throw new UsageError(
          'AUTH_JWKS_URL is set: the identity provider signs the tokens and rotates its keys.',
        );
      }
      // No token the service accepts outlives this: it refuses longer lifetimes, and the access tokens of the
      // embedded sign-in are shorter still.
      const longestLifetime =
        Math.max(config.auth.maxTokenLifetimeSeconds, config.signin.accessTokenTtlSeconds) +
        config.auth.clockToleranceSeconds;
      // The file must exist: a rotation of no key would create two at once.
      if (!fs.existsSync(config.auth.localKeyFile)) {
        throw new UsageError(
          `${config.auth.localKeyFile} does not exist: the first start (or salesreps token) creates the first key.`,
        );
      }
      const { rotateLocalIssuerKey } = await import('./auth/local-issuer.js');
      const rotation = await rotateLocalIssuerKey(config.auth, retireAfter ?? longestLifetime);
      print(
        [
          `New issuer key ${rotation.kid} in ${config.auth.localKeyFile}: restart the service (every replica) to sign with it.`,
          ...rotation.retiring.map(
            ({ kid, retiresAt }) =>
              `Key ${kid} stays in the JWKS until ${retiresAt}; the first start after that leaves it out.`,
          ),
        ].join('\n'),
      );
    },
  }),
  defineCommand({
    name: ['effects', 'list'],
    summary:
      'Prints the side effects not yet carried out (pending) or given up (dead), oldest first, as JSON.',
    options: {
      org: { type: 'string', value: 'IDENTITY_ORG_ID', description: "only this organization's" },
      status: { type: 'string', value: 'pending|dead', description: 'only those in this state' },
      limit: { type: 'string', value: 'N', default: '100', description: 'at most this many, 1 to 10000' },
    },
    check: (values) => {
      const status = text(values.status);
      if (status !== undefined && status !== 'pending' && status !== 'dead') {
        throw new UsageError('--status must be pending or dead.');
      }
      return {
        org: text(values.org),
        status: status as VisibleEffectStatus | undefined,
        limit: wholeNumber(values.limit, 'limit', 1, 10_000),
      };
    },
    run: async (input: {
      org: string | undefined;
      status: VisibleEffectStatus | undefined;
      limit: number;
    }) => {
      const { listEffectsText } = await effectsCommands();
      print(await withDatabase(await configuration(), (db) => listEffectsText(db, input)));
    },
  }),
  defineCommand({
    name: ['effects', 'retry'],
    summary:
      'Makes a dead effect pending again, with a fresh set of attempts; a running service carries it out.',
    options: { id: { type: 'string', value: 'EFFECT_ID', required: true, description: 'the dead effect' } },
    check: (values) => {
      const id = String(values.id);
      if (!/^[1-9][0-9]{0,17}$/.test(id)) throw new UsageError('--id must be an effect id (digits).');
      return id;
    },
    run: async (id: string) => {
      const [{ retryEffectText }, { cliChange }] = await Promise.all([effectsCommands(), eventsCommands()]);
      print(await withDatabase(await configuration(), (db) => retryEffectText(db, id, cliChange())));
    },
  }),
  defineCommand({
    name: ['events', 'list'],
    summary: "Prints an organization's newest events (its audit log), newest first, as JSON.",
    options: {
      org: { type: 'string', value: 'IDENTITY_ORG_ID', required: true, description: 'the organization' },
      action: { type: 'string', value: 'ACTION', description: 'only events of this action' },
      limit: { type: 'string', value: 'N', default: '100', description: 'at most this many, 1 to 1000' },
    },
    check: (values) => {
      const action = text(values.action);
      if (action !== undefined && !(EVENT_ACTIONS as readonly string[]).includes(action)) {
        throw new UsageError(`--action must be one of ${EVENT_ACTIONS.join(', ')}.`);
      }
      return { org: String(values.org), action, limit: wholeNumber(values.limit, 'limit', 1, 1000) };
    },
    run: async (input: { org: string; action: string | undefined; limit: number }) => {
      const { listEventsText } = await eventsCommands();
      print(await withDatabase(await configuration(), (db) => listEventsText(db, input)));
    },
  }),
  defineCommand({
    name: ['admin', 'invite'],
    summary:
      'Makes EMAIL an Admin of the organization and prints its single-use invitation link (also mailed by the ' +
      'effect worker). Embedded sign-in only (IDP=local, no AUTH_JWKS_URL).',
    options: {
      org: {
        type: 'string',
        value: 'IDENTITY_ORG_ID',
        required: true,
        description: 'the organization (its identity organization id)',
      },
      email: { type: 'string', value: 'EMAIL', required: true, description: "the admin's email address" },
    },
    check: (values) => {
      const email = String(values.email).trim();
      if (!/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 320) {
        throw new UsageError('--email must be an email address.');
      }
      return { identityOrganizationId: String(values.org), email };
    },
    run: async (input: { identityOrganizationId: string; email: string }) => {
      const config = await signinConfig();
      const [{ openLocalIssuer }, { linkTokens }, { signinSettings }, { inviteAdmin }] = await Promise.all([
        import('./auth/local-issuer.js'),
        import('./signin/links.js'),
        import('./signin/runtime.js'),
        import('./signin/service.js'),
      ]);
      const issuer = await openLocalIssuer(config.auth);
      const invited = await withDatabase(config, (db) =>
        inviteAdmin(db, linkTokens(issuer.secretRoot), signinSettings(config), input),
      );
      print(invited.link ?? `${input.email} has a password already: it signs in at ${config.publicUrl}.`);
    },
  }),
  defineCommand({
    name: ['client', 'add'],
    summary:
      'Registers a public relying party (authorization code with PKCE, no secret) and prints it as JSON. ' +
      'A browser client needs nothing else: its redirect origins may call the API (CORS). Embedded sign-in only.',
    options: {
      id: {
        type: 'string',
        value: 'ID',
        required: true,
        description: 'the client_id, 1–100 of A-Z a-z 0-9 . _ -',
      },
      'redirect-uri': {
        type: 'string',
        value: 'URI',
        multiple: true,
        required: true,
        description: 'a redirect URI, matched exactly (https, or http on localhost)',
      },
    },
    check: (values) => ({ id: String(values.id), redirectUris: (values['redirect-uri'] as string[]) ?? [] }),
    run: async (input: { id: string; redirectUris: string[] }) => {
      const config = await signinConfig();
      const { addClient } = await import('./signin/service.js');
      const client = await withDatabase(config, (db) => addClient(db, input));
      print(JSON.stringify(client, null, 2));
    },
  }),
  defineCommand({
    name: ['sso', 'set'],
    summary:
      "Sets an organization's single sign-on connection (as PUT /api/organizations/sso), replacing any earlier " +
      'one, and prints it (never the secret): OpenID Connect with --issuer, --client-id and --client-secret-file, ' +
      'or SAML with --metadata-file or --metadata-url. Embedded sign-in only.',
    options: {
      org: { type: 'string', value: 'IDENTITY_ORG_ID', required: true, description: 'the organization' },
      issuer: { type: 'string', value: 'URL', description: "OpenID Connect: the IdP's issuer (https)" },
      'client-id': { type: 'string', value: 'ID', description: 'OpenID Connect: the client id at the IdP' },
      'client-secret-file': {
        type: 'string',
        value: 'FILE',
        description:
          'OpenID Connect: a file holding the client secret (`-`: standard input), so it is in no shell history',
      },
      'metadata-file': {
        type: 'string',
        value: 'FILE',
        description: "SAML: a file holding the IdP's metadata XML (`-`: standard input)",
      },
      'metadata-url': {
        type: 'string',
        value: 'URL',
        description: 'SAML: where the IdP publishes its metadata (https), fetched now',
      },
      domain: {
        type: 'string',
        value: 'DOMAIN',
        multiple: true,
        description: 'an email domain the connection serves',
      },
      'password-sign-in': {
        type: 'boolean',
        description: "the organization's people may still sign in with a password",
      },
    },
    check: (values): SsoSetInput => {
      const common = {
        org: String(values.org),
        domains: (values.domain as string[] | undefined) ?? [],
        passwordSignIn: values['password-sign-in'] === true,
      };
      const given = (['issuer', 'metadata-file', 'metadata-url'] as const).filter(
        (name) => values[name] !== undefined,
      );
      if (given.length !== 1) {
        throw new UsageError(
          'Give one of --issuer (OpenID Connect), --metadata-file or --metadata-url (SAML).',
        );
      }
      if (values['metadata-file'] !== undefined) {
        return { ...common, protocol: 'saml', metadataFile: String(values['metadata-file']) };
      }
      if (values['metadata-url'] !== undefined) {
        return { ...common, protocol: 'saml', metadataUrl: String(values['metadata-url']) };
      }
      if (values['client-id'] === undefined || values['client-secret-file'] === undefined) {
        throw new UsageError('OpenID Connect needs --client-id and --client-secret-file with --issuer.');
      }
      return {
        ...common,
        protocol: 'oidc',
        issuer: String(values.issuer),
        clientId: String(values['client-id']),
        secretFile: String(values['client-secret-file']),
      };
    },
    run: async (input: SsoSetInput) => {
      const readFile = (file: string) => fs.readFileSync(file === '-' ? 0 : file, 'utf8');
      const { org, domains, passwordSignIn } = input;
      const body =
        input.protocol === 'oidc'
          ? {
              protocol: 'oidc',
              issuer: input.issuer,
              clientId: input.clientId,
              clientSecret: readFile(input.secretFile).trim(),
              domains,
              passwordSignIn,
            }
          : 'metadataFile' in input
            ? { protocol: 'saml', metadataXml: readFile(input.metadataFile), domains, passwordSignIn }
            : { protocol: 'saml', metadataUrl: input.metadataUrl, domains, passwordSignIn };
      const config = await ssoConfig();
      const [{ setConnectionText }, { ssoSettings }, { cliChange }] = await Promise.all([
        import('./sso/commands.js'),
        import('./sso/runtime.js'),
        eventsCommands(),
      ]);
      print(
        await withDatabase(config, (db) =>
          setConnectionText(db, ssoSettings(config), cliChange(), { org, body }),
        ),
      );
    },
  }),
  defineCommand({
    name: ['sso', 'show'],
    summary: "Prints an organization's single sign-on connection as JSON (never the secret).",
    options: {
      org: { type: 'string', value: 'IDENTITY_ORG_ID', required: true, description: 'the organization' },
    },
    check: (values) => String(values.org),
    run: async (org: string) => {
      const config = await ssoConfig();
      const [{ showConnectionText }, { ssoSettings }] = await Promise.all([
        import('./sso/commands.js'),
        import('./sso/runtime.js'),
      ]);
      print(await withDatabase(config, (db) => showConnectionText(db, ssoSettings(config), org)));
    },
  }),
  defineCommand({
    name: ['sso', 'remove'],
    summary:
      "Removes an organization's single sign-on connection: its people sign in with a password again (an " +
      'organization locked out of its IdP is let back in).',
    options: {
      org: { type: 'string', value: 'IDENTITY_ORG_ID', required: true, description: 'the organization' },
    },
    check: (values) => String(values.org),
    run: async (org: string) => {
      const config = await ssoConfig();
      const [{ removeConnectionText }, { ssoSettings }, { cliChange }] = await Promise.all([
        import('./sso/commands.js'),
        import('./sso/runtime.js'),
        eventsCommands(),
      ]);
      print(
        await withDatabase(config, (db) => removeConnectionText(db, ssoSettings(config), cliChange(), org)),
      );
    },
  }),
  defineCommand({
    name: ['sso', 'reseal'],
    summary:
      'Seals every connection secret again under the first SSO encryption key (key rotation, docs/sso.md).',
    options: {},
    check: () => ({}),
    run: async () => {
      const config = await ssoConfig();
      const [{ resealText }, { ssoSettings }] = await Promise.all([
        import('./sso/commands.js'),
        import('./sso/runtime.js'),
      ]);
      print(await withDatabase(config, (db) => resealText(db, ssoSettings(config))));
    },
  }),
  defineCommand({
    name: ['idp', 'users'],
    summary: "Prints the local identity provider's accounts and memberships as JSON (IDP=local).",
    options: {},
    check: () => ({}),
    run: async () => {
      const { localAccountsText } = await effectsCommands();
      print(await withDatabase(await configuration(), (db) => localAccountsText(db)));
    },
  }),
];

const USAGE = [
  'Usage: salesreps <command> [options]',
  '',
  'Commands:',
  ...COMMANDS.flatMap((command) => [
    `  ${usageLine(command).replace(/^salesreps /, '')}`,
    `      ${command.summary}`,
  ]),
  '',
  'Options: --help (here or after any command), --version.',
  'Configuration comes from the environment (DATA_DIR, DATABASE_URL, ...): see the README.',
].join('\n');

/** The package's version, from the package.json above this file (dist/ in the checkout, or a test's build). */
function packageVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'salesreps' && pkg.version) return pkg.version;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

async function run(argv: string[]): Promise<void> {
  const [first, second] = argv;
  if (first === undefined) throw new UsageError(`No command given.\n\n${USAGE}`);
  if (first === '--help' || first === '-h' || first === 'help') return void print(USAGE);
  if (first === '--version' || first === '-v') return void print(packageVersion());
  const group = COMMANDS.filter((command) => command.name[0] === first);
  if (group.length === 0) throw new UsageError(`Unknown command "${first}".\n\n${USAGE}`);
  const command = group.find((candidate) => candidate.name.length === 1 || candidate.name[1] === second);
  if (!command) {
    const subcommands = group.map((candidate) => `  ${usageLine(candidate)}`).join('\n');
    if (second === '--help' || second === '-h') {
      return void print(
        [
          `Usage: salesreps ${first} <subcommand> [options]`,
          '',
          ...group.map((c) => helpText(c)).flatMap((h) => [h, '']),
        ]
          .join('\n')
          .trimEnd(),
      );
    }
    const what = second === undefined ? 'needs a subcommand' : `has no subcommand "${second}"`;
    throw new UsageError(`"${first}" ${what}:\n${subcommands}`);
  }
  const parsed = parseCommand(command, argv.slice(command.name.length));
  if (parsed === 'help') return void print(helpText(command));
  await command.run(parsed);
}

try {
  await run(process.argv.slice(2));
} catch (error) {
  if (startupErrors.some((startupError) => error instanceof startupError)) {
    process.stderr.write(`salesreps: ${(error as Error).message}\n`);
    // A failed start ends here, even when a library left a timer or a socket behind.
    process.exit(1);
  }
  const known = expectedErrors.some((expected) => error instanceof expected);
  process.stderr.write(
    `salesreps: ${error instanceof Error && known ? error.message : String(error instanceof Error ? error.stack : error)}\n`,
  );
  process.exitCode = known ? 2 : 1;
}
