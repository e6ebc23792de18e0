import { sql } from 'kysely';
import type { Executor } from '../db/database.js';

/**
 * Brute force is slowed per email address (known or not, so that the answer says nothing about an account) and
 * per client address: past a number of failures in a window each further attempt must wait, twice as long after
 * each failure, up to MAX_DELAY_SECONDS. A success clears the email's count.
 */
export const THROTTLE_WINDOW_MS = 15 * 60_000;
export const FREE_FAILURES = { email: 5, address: 20 } as const;
const MAX_DELAY_SECONDS = 15 * 60;

export type ThrottleKind = keyof typeof FREE_FAILURES;

export function throttleKey(kind: ThrottleKind, value: string): string {
  return `${kind}:${kind === 'email' ? value.trim().toLowerCase() : value}`;
}

/** How many seconds the next attempt must wait for the most restrictive of the keys (0: now). */
export async function waitSeconds(db: Executor, keys: string[]): Promise<number> {
  const row = await db
    .selectFrom('signin_throttle')
    .select(sql<number>`ceil(extract(epoch from max(blocked_until) - now()))::int`.as('wait'))
    .where('key', 'in', keys)
    .where('blocked_until', '>', new Date())
    .executeTakeFirst();
  return Math.max(0, Number(row?.wait ?? 0));
}

export async function recordFailure(db: Executor, kind: ThrottleKind, key: string): Promise<void> {
  const windowStart = new Date(Date.now() - THROTTLE_WINDOW_MS);
  const row = await db
    .insertInto('signin_throttle')
    .values({ key, failures: 1, first_failure_at: new Date(), blocked_until: new Date() })
    .onConflict((conflict) =>
      conflict.column('key').doUpdateSet({
        failures: sql`case when signin_throttle.first_failure_at < ${windowStart} then 1 else signin_throttle.failures + 1 end`,
        first_failure_at: sql`case when signin_throttle.first_failure_at < ${windowStart} then now() else signin_throttle.first_failure_at end`,
      }),
    )
    .returning('failures')
    .executeTakeFirstOrThrow();
  const over = row.failures - FREE_FAILURES[kind];
  if (over <= 0) return;
  const delaySeconds = Math.min(MAX_DELAY_SECONDS, 2 ** (over - 1));
  await db
    .updateTable('signin_throttle')
    .set({ blocked_until: new Date(Date.now() + delaySeconds * 1000) })
    .where('key', '=', key)
    .execute();
}

export async function clearFailures(db: Executor, key: string): Promise<void> {
  await db.deleteFrom('signin_throttle').where('key', '=', key).execute();
}
