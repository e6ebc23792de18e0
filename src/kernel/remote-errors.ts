/** The other side asked us to wait (HTTP 429): the effect is tried again no sooner than `retryAfterMs`. */
export class RetryLaterError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

/** A failure that no retry can fix (e.g. a request the provider rejects as invalid): the effect goes dead at once. */
export class PermanentEffectError extends Error {}

/**
 * The wait a 429 response asks for: `Retry-After` (seconds or an HTTP date) or `RateLimit-Reset` (seconds), else
 * `fallbackMs`.
 */
export function retryAfterMs(headers: Headers, fallbackMs: number, now = Date.now()): number {
  const retryAfter = headers.get('retry-after')?.trim();
  if (retryAfter) {
    if (/^\d+$/.test(retryAfter)) return Number(retryAfter) * 1000;
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  const reset = headers.get('ratelimit-reset')?.trim();
  if (reset && /^\d+$/.test(reset)) return Number(reset) * 1000;
  return fallbackMs;
}

/**
 * A failure whose effect keeps its own retry schedule (webhook deliveries): tried again in exactly `retryInMs`, or
 * dead when `final`, whatever the worker's backoff settings and attempt limit say.
 */
export class ScheduledRetryError extends Error {
  constructor(
    message: string,
    readonly retryInMs: number,
    readonly final: boolean,
  ) {
    super(message);
  }
}
