// The pg pool as Kysely uses it, with statement time-outs on the server and on the client.
import net from 'node:net';
import path from 'node:path';
import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import type pg from 'pg';

/** The message pg gives its own read time-out; the HTTP layer answers it 503 (database unavailable). */
export const QUERY_READ_TIMEOUT = 'Query read timeout';

/** When a statement is cancelled, and when the client stops waiting for it. */
export interface StatementTimeouts {
  /** The statement time-out: past it the server is asked to cancel the statement (it then fails with 57014). */
  cancelAfterMs: number;
  /** Past it the client gives up waiting (a server that does not answer at all, not even the cancel). */
  giveUpAfterMs: number;
}

/**
 * The pg pool as Kysely's PostgresDialect uses it, with each statement run through pg's callback API and timed
 * out here rather than by pg's `query_timeout` option or a `statement_timeout` startup parameter.
 *
 * Why here: pg's promise API and its `query_timeout` each left every result reachable long enough to survive two
 * scavenges, so the rows of every request were promoted to the old generation (about 10 kB a request on the
 * list endpoint; 277 kB promoted per scavenge against 1 kB for the same statement through the callback API), and
 * young-generation collection cost several times what it does without them (docs/performance.md). And no startup
 * parameter: PgBouncer refuses `statement_timeout` there, and a `SET` would stay on a server connection that
 * transaction pooling hands to other clients (docs/deploy.md).
 *
 * A statement still running `cancelAfterMs` after it was issued is cancelled by the server (a CancelRequest, which
 * PgBouncer forwards to the server connection running it), so the time-out holds on the server side too. One
 * unanswered `giveUpAfterMs` after it was issued fails with pg's own message; so does, at once, any later statement
 * on its connection (a transaction's ROLLBACK). A connection with a cancelled or unanswered statement is destroyed
 * when released rather than returned to the pool: a late cancel must not reach another request's statement.
 */
export function kyselyPool(pool: pg.Pool, timeouts: StatementTimeouts): PostgresPool {
  const clients = new WeakMap<pg.PoolClient, TimedClient>();
  return {
    options: pool.options,
    async connect() {
      const client = await pool.connect();
      let timed = clients.get(client);
      if (!timed) {
        timed = new TimedClient(client, timeouts);
        clients.set(client, timed);
      }
      return timed;
    },
    end: () => pool.end(),
  };
}

/** What pg's Client knows of its connection, beyond its typings: where it goes, and the key to cancel on it. */
interface ClientSession {
  host: string;
  port: number;
  processID: number | null;
  secretKey: number | null;
}

/**
 * Asks the server (or the pooler in front of it) to cancel whatever the session with this key is running:
 * PostgreSQL's CancelRequest, sent on a connection of its own (pg offers it only through a deprecated API).
 */
function requestCancel(session: ClientSession, waitMs: number): void {
  if (session.processID === null || session.secretKey === null) return;
  const request = Buffer.alloc(16);
  request.writeInt32BE(16, 0);
  request.writeInt32BE(80877102, 4);
  request.writeInt32BE(session.processID, 8);
  request.writeInt32BE(session.secretKey, 12);
  const socket = session.host.startsWith('/')
    ? net.connect(path.join(session.host, `.s.PGSQL.${session.port}`))
    : net.connect(session.port, session.host);
  // Written without closing our side: the receiver closes the connection once it has passed the cancel on, and
  // PgBouncer drops a cancel whose sender hung up first (libpq waits, too).
  socket.setTimeout(waitMs, () => socket.destroy());
  socket.on('error', () => {});
  socket.on('end', () => socket.destroy());
  socket.on('connect', () => socket.write(request));
}

class TimedClient implements PostgresPoolClient {
  readonly #client: pg.PoolClient;
  readonly #timeouts: StatementTimeouts;
  #timedOut = false;
  #cancelled = false;

  constructor(client: pg.PoolClient, timeouts: StatementTimeouts) {
    this.#client = client;
    this.#timeouts = timeouts;
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
    const { cancelAfterMs, giveUpAfterMs } = this.#timeouts;
    return new Promise((resolve, reject) => {
      // One timer at a time: first the cancel, then the rest of the wait until the client gives up.
      let timer = setTimeout(() => {
        this.#cancelled = true;
        requestCancel(this.#client as unknown as ClientSession, giveUpAfterMs - cancelAfterMs);
        timer = setTimeout(() => {
          this.#timedOut = true;
          reject(new Error(QUERY_READ_TIMEOUT));
        }, giveUpAfterMs - cancelAfterMs);
      }, cancelAfterMs);
      this.#client.query(sql, parameters as unknown[], (error, result) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(result as unknown as PostgresQueryResult<R>);
      });
    });
  }

  release(destroy?: boolean): void {
    const spoilt = this.#timedOut || this.#cancelled;
    this.#timedOut = false;
    this.#cancelled = false;
    this.#client.release(destroy || spoilt);
  }
}
