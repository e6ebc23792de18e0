// The steps of a start that the service and the CLI's database commands share: the schema check and the one-line
// failure. Apart from main.ts so that a command loads the database and not the whole service.
import type { Config } from './config.js';
import { type Db, migrateToLatest, pendingMigrations } from './db/database.js';
import { EmbeddedDatabaseBusyError } from './db/embedded-lock.js';

/** A start that cannot complete; its message says why in one line. */
export class StartupError extends Error {}

/**
 * Brings the schema up to date, or with MIGRATE=false checks that it is: a schema behind this release fails the start
 * (its queries would fail one by one later), naming the first migration missing and the command that applies it.
 */
export async function prepareSchema(config: Config, db: Db): Promise<void> {
  if (config.migrate) {
    await startupStep(`cannot reach or migrate ${databaseName(config)}`, () => migrateToLatest(db));
    return;
  }
  const pending = await startupStep(`cannot reach ${databaseName(config)}`, () => pendingMigrations(db));
  if (pending.length > 0) {
    throw new StartupError(
      `${databaseName(config)} lacks ${pending.length} migration(s) of this release, from ${pending[0]} ` +
        '(MIGRATE=false or --no-migrate): run `salesreps migrate` first',
    );
  }
}

/** Why an operation failed, in one line: the system's words for the usual causes, else the message's first line. */
function failureReason(error: unknown): string {
  const reasons: Record<string, string> = {
    EADDRINUSE: 'the address is in use',
    EADDRNOTAVAIL: 'the address is not one of this machine',
    EACCES: 'permission denied',
    ECONNREFUSED: 'connection refused',
    ENOTFOUND: 'no such host',
  };
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code && reasons[code]) return reasons[code];
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]?.trim() || (error instanceof Error ? error.name : 'unknown error');
}

/** Runs one step of the start; its failure becomes a StartupError that names the step and the reason. */
export async function startupStep<T>(step: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    // These say what to do in one line already.
    if (error instanceof StartupError || error instanceof EmbeddedDatabaseBusyError) throw error;
    throw new StartupError(`${step}: ${failureReason(error)}`, { cause: error });
  }
}

/** The database the configuration names, for a message: the embedded folder, or the server without credentials. */
export function databaseName(config: Config): string {
  if (!config.databaseUrl) return `the embedded database in ${config.dataDir}`;
  try {
    const url = new URL(config.databaseUrl);
    return `the database at ${url.host}${url.pathname} (DATABASE_URL)`;
  } catch {
    return 'the database at DATABASE_URL';
  }
}
