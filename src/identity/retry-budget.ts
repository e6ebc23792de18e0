// Retrying calls to the identity provider within a time budget, with backoff and jitter.
import { setTimeout as wait } from 'node:timers/promises';
import { PermanentEffectError, RetryLaterError } from '../kernel/remote-errors.js';

/** How long a request may spend on one call to the identity provider, its retries included. */
export interface RetryBudget {
  /** Every attempt and every wait between attempts ends within this time of the first attempt's start. */
  budgetMs: number;
  maxAttempts: number;
  /** The wait after the first failure; it doubles after each later one (with jitter). */
  firstDelayMs: number;
}

/**
 * The PUT's budget for finding or creating the Kinde user (docs/effects.md): long enough to ride out a 500 or a
 * 429 with `Retry-After: 1`, short enough that the admin is answered within seconds.
 */
export const REQUEST_IDENTITY_BUDGET: RetryBudget = { budgetMs: 3000, maxAttempts: 4, firstDelayMs: 100 };

/**
 * Runs `operation` until it succeeds, retrying transient failures (5xx, a dropped token, a network fault, a 429)
 * while the budget lasts; a 429's wait is honoured when it fits the budget, and ends the retries when it does not.
 * Each attempt gets the budget's deadline, so a hanging call ends with it too. A failure no retry can fix
 * (PermanentEffectError), the last attempt's failure, or the one whose wait does not fit, is thrown as it is.
 */
export async function withinRetryBudget<T>(
  operation: (deadline: AbortSignal) => Promise<T>,
  budget: RetryBudget,
  random = Math.random,
): Promise<T> {
  const startedAt = Date.now();
  const deadline = AbortSignal.timeout(budget.budgetMs);
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(deadline);
    } catch (error) {
      if (error instanceof PermanentEffectError || deadline.aborted || attempt >= budget.maxAttempts)
        throw error;
      const backoffMs = budget.firstDelayMs * 2 ** (attempt - 1) * (0.5 + random() / 2);
      const waitMs = error instanceof RetryLaterError ? Math.max(backoffMs, error.retryAfterMs) : backoffMs;
      if (Date.now() - startedAt + waitMs >= budget.budgetMs) throw error;
      await wait(waitMs);
    }
  }
}

/** The Retry-After (seconds) of the 503 after the retries gave up: what a 429 asked for, else 5 s. */
export function retryAfterSecondsOf(error: unknown): number {
  if (error instanceof RetryLaterError) return Math.max(1, Math.ceil(error.retryAfterMs / 1000));
  return 5;
}
