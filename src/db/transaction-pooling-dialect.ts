// A Kysely PostgreSQL dialect that sets each transaction's time-outs itself, for a transaction pooler.
import {
  CompiledQuery,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  PostgresAdapter,
  PostgresDialect,
  type PostgresDialectConfig,
  PostgresDriver,
  type TransactionSettings,
} from 'kysely';

/** Settings a transaction carries with it (milliseconds), since a session's settings do not survive a pooler. */
export interface TransactionTimeouts {
  statement_timeout: number;
  idle_in_transaction_session_timeout: number;
}

/**
 * Kysely's PostgreSQL dialect made safe for PgBouncer in transaction mode, where consecutive transactions of one
 * client run on different server connections and nothing of a session is kept (docs/deploy.md):
 *
 * - every transaction begins with `SET LOCAL` of its time-outs, sent with BEGIN in one round trip, so a
 *   transaction that holds row locks is bounded on the server even when its client hangs;
 * - migrations are locked by the migration's own transaction (`migrateToLatest`), not by Kysely's session-level
 *   advisory lock, which a pooler would leave held on a server connection that another client gets next.
 */
export class TransactionPoolingPostgresDialect extends PostgresDialect {
  readonly #config: PostgresDialectConfig;
  readonly #setLocal: string;

  constructor(config: PostgresDialectConfig, timeouts: TransactionTimeouts) {
    super(config);
    this.#config = config;
    this.#setLocal = Object.entries(timeouts)
      .map(([name, ms]) => `set local ${name} = ${Math.trunc(ms)}`)
      .join('; ');
  }

  override createDriver(): Driver {
    return new TimedTransactionDriver(this.#config, this.#setLocal);
  }

  override createAdapter(): DialectAdapter {
    return new TransactionLockedMigrationAdapter();
  }
}

class TimedTransactionDriver extends PostgresDriver {
  readonly #setLocal: string;

  constructor(config: PostgresDialectConfig, setLocal: string) {
    super(config);
    this.#setLocal = setLocal;
  }

  override async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings) {
    let begin = 'begin';
    if (settings.isolationLevel || settings.accessMode) {
      begin = 'start transaction';
      if (settings.isolationLevel) begin += ` isolation level ${settings.isolationLevel}`;
      if (settings.accessMode) begin += ` ${settings.accessMode}`;
    }
    // Without parameters pg sends this as one simple query: several statements, one round trip.
    await connection.executeQuery(CompiledQuery.raw(`${begin}; ${this.#setLocal}`));
  }
}

/** The lock is the migration transaction's (database.ts, migrateToLatest); Kysely's session lock is not taken. */
class TransactionLockedMigrationAdapter extends PostgresAdapter {
  override async acquireMigrationLock(): Promise<void> {}
  override async releaseMigrationLock(): Promise<void> {}
}
