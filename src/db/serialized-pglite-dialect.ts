// A Kysely dialect for PGlite that lends its one connection to one caller at a time, and traces its statements.
import {
  type CompiledQuery,
  type DatabaseConnection,
  type Driver,
  PGliteDialect,
  type PGliteDialectConfig,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import { inSpan, type Tracing } from '../kernel/tracing.js';

/** The statement's first word, as OpenTelemetry's PostgreSQL instrumentation names its spans (`pg.query:SELECT`). */
function operationOf(sql: string): string {
  const text = sql.trimStart();
  const end = text.search(/[\s;(]/);
  return (end === -1 ? text : text.slice(0, end)).toUpperCase();
}

/**
 * A span around each statement of a traced request or effect, named and described as OpenTelemetry's PostgreSQL
 * instrumentation does for a server (PGlite has no driver it could patch).
 */
function tracedConnection(connection: DatabaseConnection): DatabaseConnection {
  return {
    executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
      const operation = operationOf(compiledQuery.sql);
      return inSpan(
        `pg.query:${operation}`,
        {
          kind: 'client',
          childOnly: true,
          attributes: {
            'db.system.name': 'postgresql',
            'db.operation.name': operation,
            'db.query.text': compiledQuery.sql,
            'salesreps.database': 'embedded',
          },
        },
        () => connection.executeQuery<R>(compiledQuery),
      );
    },
    streamQuery: (compiledQuery, chunkSize) => connection.streamQuery(compiledQuery, chunkSize),
  };
}

/**
 * Kysely's PGlite driver hands its one connection to every caller at once, so a query issued while another
 * request's transaction is open would run inside that transaction. This driver lends the connection to one
 * caller at a time: a single query or a whole transaction holds it until released.
 */
class SerializedDriver implements Driver {
  #tail: Promise<void> = Promise.resolve();
  #release: (() => void) | undefined;
  /** The connection as lent, and the one underneath it that the inner driver takes back. */
  readonly #lent = new WeakMap<DatabaseConnection, DatabaseConnection>();

  constructor(
    private readonly inner: Driver,
    private readonly traced: boolean,
  ) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const previous = this.#tail;
    let release!: () => void;
    this.#tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    this.#release = release;
    const connection = await this.inner.acquireConnection();
    if (!this.traced) return connection;
    const lent = tracedConnection(connection);
    this.#lent.set(lent, connection);
    return lent;
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    await this.inner.releaseConnection(this.#inner(connection));
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.inner.beginTransaction(this.#inner(connection), settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction(this.#inner(connection));
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.rollbackTransaction(this.#inner(connection));
  }

  async savepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await this.inner.savepoint?.(this.#inner(connection), name, compile);
  }

  async rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await this.inner.rollbackToSavepoint?.(this.#inner(connection), name, compile);
  }

  async releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await this.inner.releaseSavepoint?.(this.#inner(connection), name, compile);
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }

  #inner(connection: DatabaseConnection): DatabaseConnection {
    return this.#lent.get(connection) ?? connection;
  }
}

export class SerializedPGliteDialect extends PGliteDialect {
  /** With tracing installed, each statement of a traced request or effect gets a span. */
  constructor(
    config: PGliteDialectConfig,
    private readonly tracing?: Tracing,
  ) {
    super(config);
  }

  override createDriver(): Driver {
    return new SerializedDriver(super.createDriver(), this.tracing !== undefined);
  }
}
