// The effect retention: done and dead effects deleted in batches once past their days.
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/database.js';
import { daysBefore, type Purge, type PurgeSchedule, startPurge } from '../kernel/purge.js';
import { deleteExpiredEffects } from './queries.js';

export interface RetentionSettings extends PurgeSchedule {
  /** Done effects are deleted this many days after they finished. */
  doneDays: number;
  /** Dead effects (kept longer: an admin may still retry them) are deleted this many days after they died. */
  deadDays: number;
}

/** Deletes effects that are over and past their retention, off the request path (kernel/purge.ts). */
export function startEffectRetention(
  db: Db,
  { doneDays, deadDays, ...schedule }: RetentionSettings,
  log: Pick<FastifyBaseLogger, 'info' | 'error'>,
): Purge {
  return startPurge({
    what: 'effects past their retention',
    batches: () => {
      const now = Date.now();
      const cutoffs = {
        doneBefore: daysBefore(now, doneDays),
        deadBefore: daysBefore(now, deadDays),
        limit: schedule.batchSize,
      };
      return [() => deleteExpiredEffects(db, cutoffs)];
    },
    ...schedule,
    log,
  });
}
