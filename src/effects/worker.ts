import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/database.js';
import { PermanentEffectError, RetryLaterError } from './errors.js';
import { carryOut, type EffectTargets } from './handlers.js';
import { type ClaimedEffect, claimDueEffects, markEffectDone, markEffectFailed } from './queries.js';

export interface WorkerSettings {
  retryBaseMs: number;
  retryMaxMs: number;
  maxAttempts: number;
  pollMs: number;
  leaseMs: number;
  concurrency: number;
}

/** Counts failed attempts (the service's `effect_failures_total`); `final` is "true" when the effect went dead. */
export interface EffectFailureCounter {
  inc(labels: { kind: string; final: 'true' | 'false' }): void;
}

export interface EffectWorker {
  /** Carries out due effects until stopped. */
  start(): void;
  /** Takes no new effect, and waits for those in flight to finish (or fail and be scheduled again). */
  stop(): Promise<void>;
  /** Looks for due effects now rather than at the next poll (e.g. right after a change is committed). */
  wake(): void;
}

/**
 * The wait before the next attempt after `attempts` failed ones: exponential from the base, capped, with "equal
 * jitter" (half fixed, half random) so that effects failing together do not retry together.
 */
export function retryDelayMs(
  attempts: number,
  settings: Pick<WorkerSettings, 'retryBaseMs' | 'retryMaxMs'>,
  random = Math.random,
) {
  const exponential = Math.min(settings.retryMaxMs, settings.retryBaseMs * 2 ** Math.min(attempts - 1, 40));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}

/**
 * The effect worker of one process; every replica runs one. It polls for due effects (every `pollMs` when idle, at
 * once after a busy round), claims a batch under a lease, carries them out side by side (one per rep), and records
 * the outcome: done, pending again after a backoff, or dead after `maxAttempts`.
 */
export function createEffectWorker(
  db: Db,
  targets: EffectTargets,
  settings: WorkerSettings,
  log: Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>,
  failures?: EffectFailureCounter,
): EffectWorker {
  const leaseToken = randomUUID();
  let running = false;
  let loop: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  async function runOne(effect: ClaimedEffect): Promise<void> {
    try {
      const outcome = await carryOut(db, targets, effect);
      await markEffectDone(db, effect.id, leaseToken, outcome);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const dead = error instanceof PermanentEffectError || effect.attempts >= settings.maxAttempts;
      const backoff = retryDelayMs(effect.attempts, settings);
      const retryInMs =
        error instanceof RetryLaterError
          ? Math.min(settings.retryMaxMs, Math.max(backoff, error.retryAfterMs))
          : backoff;
      const context = { effectId: effect.id, kind: effect.kind, attempts: effect.attempts, error: message };
      failures?.inc({ kind: effect.kind, final: dead ? 'true' : 'false' });
      if (dead) log.error(context, 'effect is dead: an admin can retry it');
      else log.warn({ ...context, retryInMs }, 'effect failed; retrying later');
      await markEffectFailed(db, effect.id, leaseToken, { error: message, retryInMs, dead });
    }
  }

  async function work(): Promise<void> {
    while (running) {
      let claimed: ClaimedEffect[] = [];
      try {
        claimed = await claimDueEffects(db, {
          limit: settings.concurrency,
          leaseMs: settings.leaseMs,
          leaseToken,
        });
        await Promise.all(claimed.map(runOne));
      } catch (error) {
        // The database is unreachable or closing: the leases run out and the effects are claimed again.
        log.error({ err: error }, 'effect worker round failed');
      }
      if (running && claimed.length === 0) await sleep(settings.pollMs);
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      loop = work();
    },
    async stop() {
      running = false;
      wakeUp?.();
      await loop;
      loop = undefined;
    },
    wake() {
      wakeUp?.();
    },
  };
}
