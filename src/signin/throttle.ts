// Slowing failed sign-ins per email and per client address, on every replica alike.
import { normalizeIP } from '@fastify/rate-limit';
import { type RawBuilder, sql } from 'kysely';
import type { Executor } from '../db/database.js';

/**
 * Brute force is slowed per email address (known or not, so that the answer says nothing about an account) and
 * per client address: past a number of failures in a window each further attempt must wait, twice as long after
 * each failure, up to MAX_DELAY_SECONDS. An attempt is counted before its password is checked, in the statement
 * that tests the limit, so that attempts sent at once are slowed exactly like the same attempts one after another,
 * on every replica; a success takes its count back and clears the email's.
 */
export const THROTTLE_WINDOW_MS = 15 * 60_000;
const FREE_FAILURES = { email: 5, address: 20 } as const;
const MAX_DELAY_SECONDS = 15 * 60;
/**
 * `blocked_until` of a key that blocks nothing: long past, not `now()`, since a concurrent attempt whose statement
 * started a moment earlier has an earlier `now()` and would read "now" as blocked.
 */
const NOT_BLOCKED = sql<Date>`to_timestamp(0)`;

export type ThrottleKind = keyof typeof FREE_FAILURES;

export function throttleKey(kind: ThrottleKind, value: string): string {
  return `${kind}:${kind === 'email' ? value.trim().toLowerCase() : value}`;
}

/**
 * The client as the sign-in counts it: an IPv6 client by its /64 (one subscriber's network, whose addresses it
 * may change at will), as the API's rate limiter does; an IPv4-mapped address as its IPv4 one.
 */
export function clientNetwork(ip: string): string {
  return normalizeIP(ip);
}

/** The free failures of a stored row's key, read from the kind its key starts with. */
function freeFailures(key: RawBuilder<string>): RawBuilder<number> {
  return sql<number>`(case when starts_with(${key}, 'email:') then ${FREE_FAILURES.email}::int else ${FREE_FAILURES.address}::int end)`;
}

/** How many seconds the next attempt must wait for the most restrictive of the keys (0: now). */
async function waitSeconds(db: Executor, keys: string[]): Promise<number> {
  const row = await db
    .selectFrom('signin_throttle')
    .select(sql<number>`ceil(extract(epoch from max(blocked_until) - now()))::int`.as('wait'))
    .where('key', 'in', keys)
    .where('blocked_until', '>', sql<Date>`now()`)
    .executeTakeFirst();
  return Math.max(0, Number(row?.wait ?? 0));
}

/** An attempt let through (its keys counted), or the seconds it must wait (nothing counted that must be). */
export type Reservation = { kind: 'counted'; keys: string[] } | { kind: 'wait'; seconds: number };

/**
 * Counts an attempt on every key unless one of them is blocked now. The blocked test and the count are one
 * statement: the keys' rows are locked (in key order, so that two attempts never wait for each other), each one's
 * blocking is read from its newest version, and a key that became blocked meanwhile is not counted (its update's
 * condition fails). The count past the free failures blocks the next attempt, as a failure did when counted after
 * the check.
 */
export async function reserveAttempt(db: Executor, keys: string[]): Promise<Reservation> {
  const sorted = [...new Set(keys)].sort();
  const windowStart = new Date(Date.now() - THROTTLE_WINDOW_MS);
  const count = sql<number>`(case when t.first_failure_at < ${windowStart} then 1 else t.failures + 1 end)`;
  const free = freeFailures(sql<string>`t.key`);
  const result = await sql<{ key: string }>`
    with existing as (
      select key, blocked_until from signin_throttle
      where key in (${sql.join(sorted)}) order by key for update
    )
    insert into signin_throttle as t (key, failures, first_failure_at, blocked_until)
    select attempt.key, 1, now(), ${NOT_BLOCKED}
    from (values ${sql.join(sorted.map((key) => sql`(${key})`))}) as attempt (key)
    where not exists (select 1 from existing where existing.blocked_until > now())
    order by attempt.key
    on conflict (key) do update set
      failures = ${count},
      first_failure_at = case when t.first_failure_at < ${windowStart} then now() else t.first_failure_at end,
      blocked_until = case when ${count} > ${free}
        then now() + make_interval(secs => least(${MAX_DELAY_SECONDS}, power(2, ${count} - ${free} - 1)))
        else ${NOT_BLOCKED} end
    where t.blocked_until <= now()
    returning t.key`.execute(db);
  const counted = result.rows.map((row) => row.key);
  if (counted.length === sorted.length) return { kind: 'counted', keys: counted };
  await releaseAttempt(db, counted);
  // A block that ended between the two statements still refuses this attempt, for the shortest wait.
  return { kind: 'wait', seconds: Math.max(1, await waitSeconds(db, sorted)) };
}

/**
 * A failure confirmed after its password was checked: a key past its free failures is blocked from now on, not
 * only from when the attempt was counted, so that a slow check does not shorten the wait that follows it.
 */
export async function confirmFailure(db: Executor, keys: string[]): Promise<void> {
  const free = freeFailures(sql<string>`key`);
  await db
    .updateTable('signin_throttle')
    .set({
      blocked_until: sql`greatest(blocked_until, now() + make_interval(secs => least(${MAX_DELAY_SECONDS}, power(2, failures - ${free} - 1))))`,
    })
    .where('key', 'in', [...keys].sort())
    .where('failures', '>', free)
    .execute();
}

/**
 * Takes an attempt's count back from the keys (a success, or an attempt refused before its password was checked);
 * a key back within its free failures is no longer blocked.
 */
export async function releaseAttempt(db: Executor, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  const free = freeFailures(sql<string>`key`);
  await db
    .updateTable('signin_throttle')
    .set({
      failures: sql`greatest(failures - 1, 0)`,
      blocked_until: sql`case when failures - 1 <= ${free} then ${NOT_BLOCKED} else blocked_until end`,
    })
    .where('key', 'in', [...keys].sort())
    .execute();
}

export async function clearFailures(db: Executor, key: string): Promise<void> {
  await db.deleteFrom('signin_throttle').where('key', '=', key).execute();
}
