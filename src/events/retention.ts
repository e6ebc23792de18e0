import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/database.js';
import { type Purge, startPurge } from '../kernel/purge.js';
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

/**
 * Deletes events older than their retention, off the request path: every `intervalMs` (and once at start), in
 * batches of `batchSize` until none is left.
 */
export function startEventRetention(
  db: Db,
  settings: EventRetentionSettings,
  log: Pick<FastifyBaseLogger, 'info' | 'error'>,
): Purge {
  return startPurge({
    what: 'events past their retention',
    batches: () => {
      const before = new Date(Date.now() - settings.days * DAY_MS);
      return [() => deleteExpiredEvents(db, before, settings.batchSize)];
    },
    batchSize: settings.batchSize,
    intervalMs: settings.intervalMs,
    log,
  });
}
