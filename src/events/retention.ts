// The event retention: events deleted in batches once past their days.
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/database.js';
import { daysBefore, type Purge, type PurgeSchedule, startPurge } from '../kernel/purge.js';
import { deleteExpiredEvents } from './queries.js';

export interface EventRetentionSettings extends PurgeSchedule {
  /** Events are deleted this many days after they occurred. */
  days: number;
}

/** Deletes events older than their retention, off the request path (kernel/purge.ts). */
export function startEventRetention(
  db: Db,
  { days, ...schedule }: EventRetentionSettings,
  log: Pick<FastifyBaseLogger, 'info' | 'error'>,
): Purge {
  return startPurge({
    what: 'events past their retention',
    batches: () => {
      const before = daysBefore(Date.now(), days);
      return [() => deleteExpiredEvents(db, before, schedule.batchSize)];
    },
    ...schedule,
    log,
  });
}
