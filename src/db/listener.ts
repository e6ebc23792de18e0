// LISTEN on a PostgreSQL connection of its own, connected again whenever it is lost.
import type pg from 'pg';

export interface NotificationEvents {
  /** A notification on the channel. */
  notified(): void;
  /** Listening (again): what was sent while the connection was down is lost, so the caller looks for itself. */
  listening(): void;
  /** The connection failed or was lost; another is tried after the delay. */
  lost(error: unknown): void;
}

export interface Listener {
  close(): Promise<void>;
}

/**
 * Listens on `channel` through a connection of its own to `url` (a direct one: PgBouncer's transaction mode hands a
 * client's statements to any server connection, so a LISTEN there hears nothing). A lost connection is opened
 * again after `reconnectMs`, as often as it takes, until closed.
 */
export function listenForNotifications(
  url: string,
  channel: string,
  events: NotificationEvents,
  reconnectMs = 1000,
): Listener {
  let closed = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;

  async function connect(): Promise<void> {
    // Loaded only now, as the pool's (decision 39).
    const { default: pgModule } = await import('pg');
    if (closed) return;
    const connection = new pgModule.Client({
      connectionString: url,
      connectionTimeoutMillis: 2000,
      keepAlive: true,
      application_name: 'salesreps listener',
    });
    client = connection;
    let gone = false;
    const lose = (error: unknown) => {
      if (gone || closed) return;
      gone = true;
      client = undefined;
      connection.end().catch(() => {});
      events.lost(error);
      retry = setTimeout(() => void connect(), reconnectMs);
    };
    connection.on('error', lose);
    connection.on('end', () => lose(new Error('the connection ended')));
    connection.on('notification', (message) => {
      if (message.channel === channel) events.notified();
    });
    try {
      await connection.connect();
      await connection.query(`listen ${connection.escapeIdentifier(channel)}`);
      if (!gone && !closed) events.listening();
    } catch (error) {
      lose(error);
    }
  }

  void connect();
  return {
    async close() {
      closed = true;
      clearTimeout(retry);
      await client?.end().catch(() => {});
    },
  };
}
