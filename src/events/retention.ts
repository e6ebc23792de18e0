import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/database.js';
import { scrub } from '../kernel/scrub.js';
import { deleteExpiredEvents } from './queries.js';

export interface EventRetentionSettings {
  /** Events are deleted this many days after they occurred. */
  days: number;
  /** How often a purge runs; the first runs at start. */
  intervalMs: number;
  /** Events deleted per statement, so no statement holds many row locks or the embedded database for long. */
  batchSize: number;
}

export const EVENT_RETENTION_INTERVAL_MS = 60 * 60 * 1000;
export const EVENT_RETENTION_BATCH_SIZE = 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface EventRetention {
  /** Waits for a purge under way (it stops after its current batch). */
  stop(): Promise<void>;
}

/**
 * Deletes events older than their retention, off the request path: every `intervalMs` (and once at start), in
 * batches of `batchSize` until none is left. Every replica runs it; they skip each other's locked rows.
 */
export function startEventRetention(
  db: Db,
  settings: EventRetentionSettings,
  log: Pick<FastifyBaseLogger, 'info' | 'error'>,
): EventRetention {
  let stopped = false;
  let running: Promise<void> | undefined;

  async function purge(): Promise<void> {
    const before = new Date(Date.now() - settings.days * DAY_MS);
    let deleted = 0;
    try {
      for (;;) {
        if (stopped) break;
        const batch = await deleteExpiredEvents(db, before, settings.batchSize);
        deleted += batch;
        if (batch < settings.batchSize) break;
        // Lets requests waiting for the embedded database's one connection go first.
        await new Promise((resolve) => setImmediate(resolve));
      }
    } catch (error) {
      log.error(
        { error: scrub(String(error)), deleted },
        'deleting expired events failed; retried next time',
      );
      return;
    }
    if (deleted > 0) log.info({ deleted }, 'deleted events past their retention');
  }

  const run = () => {
    running ??= purge().finally(() => {
      running = undefined;
    });
  };
  run();
  const timer = setInterval(run, settings.intervalMs);
  timer.unref();

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
