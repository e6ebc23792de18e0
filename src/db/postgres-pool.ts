import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import type pg from 'pg';

/** The message pg gives its own read time-out; the HTTP layer answers it 503 (database unavailable). */
export const QUERY_READ_TIMEOUT = 'Query read timeout';

/**
 * The pg pool as Kysely's PostgresDialect uses it, with each statement run through pg's callback API and timed
 * out here rather than by pg's `query_timeout` option.
 *
 * Why: pg's promise API and its `query_timeout` each left every result reachable long enough to survive two
 * scavenges, so the rows of every request were promoted to the old generation (about 10 kB a request on the
 * list endpoint; 277 kB promoted per scavenge against 1 kB for the same statement through the callback API), and
 * young-generation collection cost several times what it does without them (docs/performance.md).
 *
 * A statement unanswered `queryTimeoutMs` after it was issued fails with pg's own message; so does, at once, any
 * later statement on its connection (a transaction's ROLLBACK), which is destroyed when released rather than
 * returned to the pool with the statement still running on it.
 */
export function kyselyPool(pool: pg.Pool, queryTimeoutMs: number): PostgresPool {
  const clients = new WeakMap<pg.PoolClient, TimedClient>();
  return {
    options: pool.options,
    async connect() {
      const client = await pool.connect();
      let timed = clients.get(client);
      if (!timed) {
        timed = new TimedClient(client, queryTimeoutMs);
        clients.set(client, timed);
      }
      return timed;
    },
    end: () => pool.end(),
  };
}

class TimedClient implements PostgresPoolClient {
  readonly #client: pg.PoolClient;
  readonly #timeoutMs: number;
  #timedOut = false;

  constructor(client: pg.PoolClient, timeoutMs: number) {
    this.#client = client;
    this.#timeoutMs = timeoutMs;
  }

  query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(
    sql: string | PostgresCursor<R>,
    parameters?: ReadonlyArray<unknown>,
  ): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    if (typeof sql !== 'string') throw new Error('Cursors are not used by this service');
    // Behind an unanswered statement a new one would wait as long again: a transaction's ROLLBACK, say.
    if (this.#timedOut) return Promise.reject(new Error(QUERY_READ_TIMEOUT));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#timedOut = true;
        reject(new Error(QUERY_READ_TIMEOUT));
      }, this.#timeoutMs);
      this.#client.query(sql, parameters as unknown[], (error, result) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(result as unknown as PostgresQueryResult<R>);
      });
    });
  }

  release(destroy?: boolean): void {
    const timedOut = this.#timedOut;
    this.#timedOut = false;
    this.#client.release(destroy || timedOut);
  }
}
