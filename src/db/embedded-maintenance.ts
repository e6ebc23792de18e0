// The periodic vacuum of the embedded database, where PostgreSQL's autovacuum never runs.
import type { FastifyBaseLogger } from 'fastify';
import { sql } from 'kysely';
import { scrub } from '../kernel/scrub.js';
import type { Db } from './database.js';

export interface EmbeddedMaintenance {
  /** Schedules no more passes and waits for the table being vacuumed, if any. */
  stop(): Promise<void>;
}

/**
 * PGlite runs PostgreSQL in single-user mode, where autovacuum never runs: the rows that the effect outbox updates
 * and the API deletes would never be reclaimed, and the planner would never get statistics. So every `intervalMs`
 * the service vacuums and analyses each of its tables itself, one statement per table, so that a request waits for
 * one table at most (they share the embedded database's one connection).
 */
export function startEmbeddedMaintenance(
  db: Db,
  intervalMs: number,
  log: Pick<FastifyBaseLogger, 'warn'>,
): EmbeddedMaintenance {
  let stopped = false;
  let pass: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;

  async function vacuumEachTable(): Promise<void> {
    const tables = await sql<{ tablename: string }>`
      select tablename from pg_tables where schemaname = current_schema() order by tablename`.execute(db);
    for (const { tablename } of tables.rows) {
      if (stopped) return;
      await sql`vacuum (analyze) ${sql.table(tablename)}`.execute(db);
    }
  }

  const schedule = () => {
    timer = setTimeout(() => {
      pass = vacuumEachTable()
        .catch((error) => log.warn({ error: scrub(String(error)) }, 'vacuuming the embedded database failed'))
        .finally(() => {
          pass = undefined;
          if (!stopped) schedule();
        });
    }, intervalMs);
    timer.unref();
  };
  schedule();

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await pass;
    },
  };
}
