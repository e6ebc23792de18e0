import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/database.js';
import { scrub } from '../kernel/scrub.js';
import { deleteExpiredEffects } from './queries.js';

export interface RetentionSettings {
  /** Done effects are deleted this many days after they finished. */
  doneDays: number;
  /** Dead effects (kept longer: an admin may still retry them) are deleted this many days after they died. */
  deadDays: number;
  /** How often a purge runs; the first runs at start. */
  intervalMs: number;
  /** Effects deleted per statement, so no statement holds many row locks or the embedded database for long. */
  batchSize: number;
}

export const RETENTION_INTERVAL_MS = 60 * 60 * 1000;
export const RETENTION_BATCH_SIZE = 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface EffectRetention {
  /** Waits for a purge under way (it stops after its current batch). */
  stop(): Promise<void>;
}

/**
 * Deletes effects that are over and past their retention, off the request path: every `intervalMs` (and once at
 * start), in batches of `batchSize` until none is left. Every replica runs it; they skip each other's locked rows.
 */
export function startEffectRetention(
  db: Db,
  settings: RetentionSettings,
  log: Pick<FastifyBaseLogger, 'info' | 'error'>,
): EffectRetention {
  let stopped = false;
  let running: Promise<void> | undefined;

  async function purge(): Promise<void> {
    const now = Date.now();
    const cutoffs = {
      doneBefore: new Date(now - settings.doneDays * DAY_MS),
      deadBefore: new Date(now - settings.deadDays * DAY_MS),
      limit: settings.batchSize,
    };
    let deleted = 0;
    try {
      for (;;) {
        if (stopped) break;
        const batch = await deleteExpiredEffects(db, cutoffs);
        deleted += batch;
        if (batch < settings.batchSize) break;
        // Lets requests waiting for the embedded database's one connection go first.
        await new Promise((resolve) => setImmediate(resolve));
      }
    } catch (error) {
      log.error(
        { error: scrub(String(error)), deleted },
        'deleting expired effects failed; retried next time',
      );
      return;
    }
    if (deleted > 0) log.info({ deleted }, 'deleted effects past their retention');
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
