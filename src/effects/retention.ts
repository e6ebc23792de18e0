import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/database.js';
import { type Purge, startPurge } from '../kernel/purge.js';
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

/**
 * Deletes effects that are over and past their retention, off the request path: every `intervalMs` (and once at
 * start), in batches of `batchSize` until none is left.
 */
export function startEffectRetention(
  db: Db,
  settings: RetentionSettings,
  log: Pick<FastifyBaseLogger, 'info' | 'error'>,
): Purge {
  return startPurge({
    what: 'effects past their retention',
    batches: () => {
      const now = Date.now();
      const cutoffs = {
        doneBefore: new Date(now - settings.doneDays * DAY_MS),
        deadBefore: new Date(now - settings.deadDays * DAY_MS),
        limit: settings.batchSize,
      };
      return [() => deleteExpiredEffects(db, cutoffs)];
    },
    batchSize: settings.batchSize,
    intervalMs: settings.intervalMs,
    log,
  });
}
