// Batched deletes of rows past their retention, off the request path, on a schedule.
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely, RawBuilder } from 'kysely';
import { scrub } from './scrub.js';

/** One bounded delete: removes at most the batch size of rows past their retention and answers how many it did. */
type PurgeBatch = () => Promise<number>;

/** When a purge runs and how much one statement deletes. */
export interface PurgeSchedule {
  /** How often a pass runs; the first runs at start. */
  intervalMs: number;
  /** Rows deleted per statement, so no statement holds many row locks or the embedded database for long. */
  batchSize: number;
}

/** The schedule of the effect and event retentions. */
export const RETENTION_INTERVAL_MS = 60 * 60 * 1000;
export const RETENTION_BATCH_SIZE = 1000;

const DAY_MS = 24 * 60 * 60 * 1000;

/** The moment `days` days before `now`: the cut-off of a retention counted in days. */
export function daysBefore(now: number, days: number): Date {
  return new Date(now - days * DAY_MS);
}

export interface PurgeSettings extends PurgeSchedule {
  /** What is deleted, for the log: "effects past their retention". */
  what: string;
  /** The deletes of one pass, made anew each pass (their cut-offs move with the clock); each runs until it deletes fewer than `batchSize`. */
  batches: () => PurgeBatch[];
  log: Pick<FastifyBaseLogger, 'info' | 'error'>;
}

export interface Purge {
  /** Waits for a pass under way (it stops after its current batch). */
  stop(): Promise<void>;
}

/**
 * Deletes rows past their retention off the request path: every `intervalMs` (and once at start), batch after
 * batch, so that no statement holds many row locks or the embedded database's one connection for long. Every
 * replica runs it; the deletes skip each other's locked rows. A failed pass is logged and tried again next time.
 */
export function startPurge(settings: PurgeSettings): Purge {
  let stopped = false;
  let running: Promise<void> | undefined;

  async function pass(): Promise<void> {
    let deleted = 0;
    try {
      for (const batch of settings.batches()) {
        for (;;) {
          if (stopped) return;
          const count = await batch();
          deleted += count;
          if (count < settings.batchSize) break;
          // Lets requests waiting for the embedded database's one connection go first.
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    } catch (error) {
      settings.log.error(
        { error: scrub(String(error)), deleted },
        `deleting ${settings.what} failed; retried next time`,
      );
      return;
    }
    if (deleted > 0) settings.log.info({ deleted }, `deleted ${settings.what}`);
  }

  const run = () => {
    running ??= pass().finally(() => {
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

/**
 * A purge whose batches are raw delete statements, made anew each pass for the batch size (their cut-offs move with
 * the clock); each batch counts the rows its statement deleted.
 */
export function startStatementPurge<Database>(
  db: Kysely<Database>,
  settings: Omit<PurgeSettings, 'batches'> & { statements: (limit: number) => RawBuilder<unknown>[] },
): Purge {
  const { statements, ...rest } = settings;
  return startPurge({
    ...rest,
    batches: () =>
      statements(settings.batchSize).map(
        (statement) => async () => Number((await statement.execute(db)).numAffectedRows ?? 0n),
      ),
  });
}
