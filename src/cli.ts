import { parseArgs } from 'node:util';
import { openLocalIssuer } from './auth/local-issuer.js';
import { ROLE_ADMIN, ROLE_SALES_REP } from './auth/policies.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { migrateToLatest, openDatabase } from './db/database.js';
import { EmbeddedDatabaseBusyError } from './db/embedded-lock.js';
import { EffectsCommandError, effectsCommand, idpCommand } from './effects/commands.js';
import { serve } from './main.js';
import { createOrganization, OrganizationInputError, toOrganizationView } from './organizations/service.js';

const USAGE = `Usage: salesreps <command> [options]

Commands:
  serve                                   run the HTTP service (what npm start runs)
  migrate                                 bring the database schema up to date
  org create --name NAME --identity-org ID
                                          register an organization; prints it as JSON
  token --org IDENTITY_ORG_ID --user USER_ID --role Admin|SalesRep [--role ...] [--ttl SECONDS]
                                          print a token from the local issuer
  effects list [--org IDENTITY_ORG_ID] [--status pending|dead] | effects retry --id EFFECT_ID
                                          see pending or dead side effects; retry a dead one
  idp users                               list the local identity provider's accounts (IDP=local)

Configuration comes from the environment (DATA_DIR, DATABASE_URL, ...): see the README.`;

/** A failure the user can fix: printed as one line, exit status 2, no stack trace. */
class UsageError extends Error {}

async function withDatabase<T>(
  config: Config,
  work: (db: Awaited<ReturnType<typeof openDatabase>>['db'], appliedMigrations: string[]) => Promise<T>,
) {
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: 2,
  });
  try {
    const applied = await migrateToLatest(database.db);
    return await work(database.db, applied);
  } finally {
    await database.close();
  }
}

async function run(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const config = loadConfig();
  switch (command) {
    case 'serve':
      parseArgs({ args: rest, options: {} });
      await serve(config);
      return;
    case 'migrate': {
      parseArgs({ args: rest, options: {} });
      const applied = await withDatabase(config, async (_db, appliedMigrations) => appliedMigrations);
      process.stdout.write(
        applied.length
          ? `Applied ${applied.length} migration(s): ${applied.join(', ')}. The schema is up to date.\n`
          : 'The schema was up to date: no migration to apply.\n',
      );
      return;
    }
    case 'org':
      await orgCommand(config, rest);
      return;
    case 'effects':
    case 'idp': {
      const handler = command === 'effects' ? effectsCommand : idpCommand;
      process.stdout.write(`${await withDatabase(config, (db) => handler(db, rest))}\n`);
      return;
    }
    case 'token':
      await tokenCommand(config, rest);
      return;
    default:
      throw new UsageError(`Unknown command "${command}".\n\n${USAGE}`);
  }
}

async function orgCommand(config: Config, args: string[]): Promise<void> {
  const [subcommand, ...rest] = args;
  if (subcommand !== 'create')
    throw new UsageError('Usage: salesreps org create --name NAME --identity-org ID');
  const { values } = parseArgs({
    args: rest,
    options: { name: { type: 'string' }, 'identity-org': { type: 'string' } },
  });
  if (!values.name || !values['identity-org']) {
    throw new UsageError('Usage: salesreps org create --name NAME --identity-org ID');
  }
  const input = { name: values.name, identityOrganizationId: values['identity-org'] };
  const organization = await withDatabase(config, (db) => createOrganization(db, input));
  process.stdout.write(`${JSON.stringify(toOrganizationView(organization), null, 2)}\n`);
}

const TOKEN_ROLES = [ROLE_ADMIN, ROLE_SALES_REP];

async function tokenCommand(config: Config, args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      org: { type: 'string' },
      user: { type: 'string' },
      role: { type: 'string', multiple: true },
      ttl: { type: 'string', default: '3600' },
    },
  });
  const usage =
    'Usage: salesreps token --org IDENTITY_ORG_ID --user USER_ID --role Admin|SalesRep [--role ...] [--ttl SECONDS]';
  if (!values.org || !values.user || !values.role?.length) throw new UsageError(usage);
  const unknownRole = values.role.find((role) => !TOKEN_ROLES.includes(role));
  if (unknownRole) throw new UsageError(`Unknown role "${unknownRole}": use ${TOKEN_ROLES.join(' or ')}.`);
  const ttl = Number(values.ttl);
  const maxTtl = config.auth.maxTokenLifetimeSeconds;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > maxTtl) {
    throw new UsageError(
      `--ttl must be a whole number of seconds from 1 to ${maxTtl} (AUTH_MAX_TOKEN_LIFETIME_SECONDS: the service refuses longer tokens).`,
    );
  }
  if (config.auth.jwksUrl) {
    throw new UsageError(
      'AUTH_JWKS_URL is set: tokens come from that identity provider, and the service would refuse one from the local issuer.',
    );
  }
  const issuer = await openLocalIssuer(config.auth);
  const token = await issuer.sign({ userId: values.user, organization: values.org, roles: values.role }, ttl);
  process.stdout.write(`${token}\n`);
}

try {
  await run(process.argv.slice(2));
} catch (error) {
  const known =
    error instanceof UsageError ||
    error instanceof ConfigError ||
    error instanceof EmbeddedDatabaseBusyError ||
    error instanceof EffectsCommandError ||
    error instanceof OrganizationInputError ||
    (error instanceof TypeError && (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS'));
  process.stderr.write(
    `salesreps: ${error instanceof Error && known ? error.message : String(error instanceof Error ? error.stack : error)}\n`,
  );
  process.exitCode = known ? 2 : 1;
}
