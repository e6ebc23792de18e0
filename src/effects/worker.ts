// The effect worker: claims due effects, carries them out, retries with backoff and gives up at last.
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { EffectsConfig } from '../config.js';
import type { Db } from '../db/database.js';
import { PermanentEffectError, RetryLaterError, ScheduledRetryError } from '../kernel/remote-errors.js';
import { scrub } from '../kernel/scrub.js';
import { currentTracing, inSpan, type SpanAttributes } from '../kernel/tracing.js';
import type { EffectTargets } from './handler-contract.js';
import { carryOut } from './handlers.js';
import { type ClaimedEffect, claimDueEffects, markEffectFailed, markEffectsDone } from './queries.js';

/** The part of the effects configuration a worker reads. */
export type WorkerSettings = Pick<
  EffectsConfig,
  'retryBaseMs' | 'retryMaxMs' | 'maxAttempts' | 'pollMs' | 'leaseMs' | 'concurrency'
>;

/** Counts failed attempts (the service's `salesreps_effects_failures_total`); `final` is "true" when the effect went dead. */
export interface EffectFailureCounter {
  inc(labels: { kind: string; final: 'true' | 'false' }): void;
}

export interface EffectWorker {
  /** Carries out due effects until stopped. */
  start(): void;
  /** Looks for due effects now rather than at the next poll: a change that recorded some has just committed. */
  wake(): void;
  /**
   * Wakes the worker only when it has nothing in flight: another replica's change committed. A busy worker claims
   * as its effects finish, so a notification for every change would only add claims that compete with the effects
   * for the pool.
   */
  wakeIfIdle(): void;
  /** Takes no new effect, and waits for those in flight to finish (or fail and be scheduled again). */
  stop(): Promise<void>;
}

/**
 * The wait before the next attempt after `attempts` failed ones: exponential from the base, capped, with "equal
 * jitter" (half fixed, half random) so that effects failing together do not retry together.
 */
function retryDelayMs(
  attempts: number,
  settings: Pick<WorkerSettings, 'retryBaseMs' | 'retryMaxMs'>,
  random = Math.random,
) {
  const exponential = Math.min(settings.retryMaxMs, settings.retryBaseMs * 2 ** Math.min(attempts - 1, 40));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}

/**
 * An effect's calls share one deadline of half its lease: it is over (done, or failed and rescheduled) well before
 * the lease runs out and another worker may claim it.
 */
function effectDeadlineMs(leaseMs: number): number {
  return Math.floor(leaseMs / 2);
}

/**
 * Marks effects done in batches: the first mark goes at once, and those that come while a batch is in the database
 * go together in the next, so that a busy worker spends one statement (one commit) on many effects and an idle one
 * waits for none. Each mark settles when its batch is written or has failed.
 */
function doneMarker(db: Db, leaseToken: string): (id: string, outcome: string) => Promise<void> {
  let queued: { id: string; outcome: string; resolve: () => void; reject: (error: unknown) => void }[] = [];
  let writing = false;
  async function write(): Promise<void> {
    writing = true;
    while (queued.length > 0) {
      const batch = queued;
      queued = [];
      try {
        await markEffectsDone(db, leaseToken, batch);
        for (const mark of batch) mark.resolve();
      } catch (error) {
        for (const mark of batch) mark.reject(error);
      }
    }
    writing = false;
  }
  return (id, outcome) =>
    new Promise<void>((resolve, reject) => {
      queued.push({ id, outcome, resolve, reject });
      if (!writing) void write();
    });
}

/** What an effect's span says of it (docs/operations.md, "Traces"). */
function effectAttributes(effect: ClaimedEffect): SpanAttributes {
  return {
    'salesreps.effect.id': effect.id,
    'salesreps.effect.kind': effect.kind,
    'salesreps.effect.attempt': effect.attempts,
    'salesreps.organization.id': effect.organization_id,
  };
}

/**
 * How long a woken worker gathers wake-ups before it claims. A claim is one statement whatever it finds, and the
 * embedded database runs one statement at a time: claiming once per finished effect made the claims a large part
 * of its work under a steady stream of changes.
 */
const CLAIM_GATHER_MS = 20;

/**
 * The effect worker of one process; every replica runs one. It keeps up to `concurrency` effects in flight: it
 * claims due effects under a lease as a quarter of its slots have freed up (polling every `pollMs` when nothing is
 * due, and woken by changes and by finished effects), carries each out, and records the outcome: done, pending again
 * after a backoff, or dead after `maxAttempts`.
 */
export function createEffectWorker(
  db: Db,
  targets: EffectTargets,
  settings: WorkerSettings,
  log: Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>,
  failures?: EffectFailureCounter,
): EffectWorker {
  const leaseToken = randomUUID();
  const markDone = doneMarker(db, leaseToken);
  const tracing = currentTracing();
  const inFlight = new Set<Promise<void>>();
  let running = false;
  let loop: Promise<void> | undefined;
  // A wake-up that comes while the loop is not asleep (a slot freed during a claim) is kept for its next sleep.
  let wakeRequested = false;
  let wakeSleeper: (() => void) | undefined;

  const wake = () => {
    wakeRequested = true;
    wakeSleeper?.();
  };
  // A woken loop claims CLAIM_GATHER_MS later, so that the changes committed and the effects finished meanwhile share
  // one claim rather than each paying for its own.
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (wakeRequested) {
        wakeRequested = false;
        setTimeout(resolve, CLAIM_GATHER_MS);
        return;
      }
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeSleeper = undefined;
        wakeRequested = false;
        resolve();
      }
      wakeSleeper = () => {
        wakeSleeper = undefined;
        clearTimeout(timer);
        setTimeout(done, CLAIM_GATHER_MS);
      };
    });

  async function recordFailure(effect: ClaimedEffect, error: unknown): Promise<void> {
    // Remote answers often quote the rep's email or phone: never logged or shown to admins as they are.
    const message = scrub(error instanceof Error ? error.message : String(error));
    const scheduled = error instanceof ScheduledRetryError ? error : undefined;
    const dead = scheduled
      ? scheduled.final
      : error instanceof PermanentEffectError || effect.attempts >= settings.maxAttempts;
    const backoff = retryDelayMs(effect.attempts, settings);
    const retryInMs = scheduled
      ? scheduled.retryInMs
      : error instanceof RetryLaterError
        ? Math.min(settings.retryMaxMs, Math.max(backoff, error.retryAfterMs))
        : backoff;
    const context = { effectId: effect.id, kind: effect.kind, attempts: effect.attempts, error: message };
    failures?.inc({ kind: effect.kind, final: dead ? 'true' : 'false' });
    if (dead) log.error(context, 'effect is dead: an admin can retry it');
    else log.warn({ ...context, retryInMs }, 'effect failed; retrying later');
    try {
      await markEffectFailed(db, effect.id, leaseToken, { error: message, retryInMs, dead });
    } catch (markError) {
      log.error(
        { effectId: effect.id, kind: effect.kind, error: scrub(String(markError)) },
        'effect failure not recorded; it is tried again when its lease runs out',
      );
    }
  }

  /** Carries one effect out and records the outcome; never rejects. */
  async function runOne(effect: ClaimedEffect): Promise<void> {
    let outcome: string;
    try {
      outcome = await inSpan(
        `effect ${effect.kind}`,
        { kind: 'consumer', attributes: effectAttributes(effect) },
        async (span) => {
          const done = await carryOut(
            db,
            targets,
            effect,
            AbortSignal.timeout(effectDeadlineMs(settings.leaseMs)),
          );
          span.setAttributes({ 'salesreps.effect.outcome': done });
          return done;
        },
      );
    } catch (error) {
      await recordFailure(effect, error);
      return;
    }
    try {
      await markDone(effect.id, outcome);
    } catch (error) {
      // Carried out but not recorded: counting it a failure would send it again at once. The lease runs out and
      // the effect is claimed again, where the target drops the repeat (Message-ID, webhook-id, Kinde's reads).
      log.error(
        { effectId: effect.id, kind: effect.kind, error: scrub(String(error)) },
        'effect carried out but not marked done; it is tried again when its lease runs out',
      );
    }
  }

  // A claim waits until this many slots are free: with a backlog, a claim for each slot that frees up would cost
  // every effect a statement of its own; an idle worker has them all free and claims at once.
  const claimBatch = Math.ceil(settings.concurrency / 4);

  async function work(): Promise<void> {
    while (running) {
      const free = settings.concurrency - inFlight.size;
      let claimed: ClaimedEffect[] = [];
      if (free >= claimBatch) {
        const claimStarted = Date.now();
        try {
          claimed = await claimDueEffects(db, { limit: free, leaseMs: settings.leaseMs, leaseToken });
        } catch (error) {
          // The database is unreachable or closing: the next poll tries again.
          log.error({ error: scrub(String(error)) }, 'claiming effects failed');
        }
        // A claim that found work gets a span, recorded once it is over, and the effects it claimed are its
        // children: an idle worker's polls make no trace at all.
        const claim =
          claimed.length > 0
            ? tracing?.startSpan('effects claim', {
                kind: 'internal',
                startTime: claimStarted,
                attributes: { 'salesreps.effects.claimed': claimed.length },
              })
            : undefined;
        claim?.end();
        for (const effect of claimed) {
          const carried = claim ? claim.run(() => runOne(effect)) : runOne(effect);
          const task: Promise<void> = carried.finally(() => {
            inFlight.delete(task);
            wake();
          });
          inFlight.add(task);
        }
      }
      // Too few slots free, or nothing more due: wait for the poll, or for an effect to finish (which frees a slot
      // and may make its rep's next effect due). A claim that filled every free slot goes round at once.
      if (running && (free < claimBatch || claimed.length < free)) await sleep(settings.pollMs);
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      loop = work();
    },
    wake,
    wakeIfIdle() {
      if (inFlight.size === 0) wake();
    },
    async stop() {
      running = false;
      wake();
      await loop;
      loop = undefined;
      // Each effect ends by its deadline; the bound only guards against a database that never answers the mark.
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<'timed out'>((resolve) => {
        timer = setTimeout(() => resolve('timed out'), settings.leaseMs);
      });
      const result = await Promise.race([Promise.allSettled([...inFlight]), bound]);
      clearTimeout(timer);
      if (result === 'timed out') {
        log.warn({ inFlight: inFlight.size }, 'effects still in flight at stop are left to their leases');
      }
    },
  };
}
