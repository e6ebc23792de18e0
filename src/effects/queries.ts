// The outbox's SQL for the workers and admins: claim, finish, fail, list, retry and purge effects.
import { sql } from 'kysely';
import type { Executor } from '../db/database.js';
import type { EffectStatus } from '../db/schema.js';

/** An effect as a worker claims it. */
export interface ClaimedEffect {
  id: string;
  organization_id: string;
  ordering_key: string;
  channel: string;
  /** The rep the effect is about; null for one about no rep (a sign-in mail, an event delivery). */
  sales_rep_id: string | null;
  kind: string;
  payload: unknown;
  attempts: number;
  /**
   * Whether an effect of its key and channel recorded after it was done when it was claimed: it then runs out of
   * order (a dead one retried by an admin). Nothing later can be done meanwhile, as this one holds them back.
   */
  later_done: boolean;
}

/**
 * How many due effects one look at the queue reads, earliest due first. A claim reads windows and leases the free
 * ones in each until it has enough or the due ones run out, so in the common case it costs one window, not the size
 * of every tenant's backlog; effects held back behind an earlier one of their key make it read further.
 */
const CLAIM_WINDOW = 50;

/**
 * Leases up to `limit` due effects to `leaseToken`, earliest due first (the effect_due index, in its order). Only
 * the earliest pending effect of each ordering key and channel is free to run, so a rep's effects of one channel
 * run in the order they were recorded, and a mail in backoff never holds back a revoke. SKIP LOCKED lets replicas claim side
 * by side without waiting, and the lease keeps an effect from a second worker while it is carried out outside any
 * transaction. Each window is read and leased in one statement: under load every round trip is a wait in the
 * database's queue, and the claim is what every effect goes through.
 */
export async function claimDueEffects(
  db: Executor,
  options: { limit: number; leaseMs: number; leaseToken: string },
): Promise<ClaimedEffect[]> {
  const claimed: ClaimedEffect[] = [];
  let after: WindowEnd | undefined;
  while (claimed.length < options.limit) {
    const window = await leaseFromWindow(db, after, options.limit - claimed.length, options);
    claimed.push(...window.leased);
    if (window.size < CLAIM_WINDOW || window.end === null) break;
    after = window.end;
  }
  return claimed;
}

interface WindowEnd {
  id: string;
  /** In UTC to the microsecond, as the next window's start is compared with it. */
  next_attempt_at: string;
}

/**
 * Reads the next CLAIM_WINDOW due, unleased effects after `after`, in due order, and leases up to `limit` of them
 * that are free to run, earliest due first: not held back, and still pending, due and unleased as each is locked
 * (another worker may have leased or failed one since the statement's snapshot), skipping any that another worker
 * is leasing right now. Answers the leased effects, the window's size and its last effect (where the next starts).
 */
async function leaseFromWindow(
  db: Executor,
  after: WindowEnd | undefined,
  limit: number,
  options: { leaseMs: number; leaseToken: string },
): Promise<{ leased: ClaimedEffect[]; size: number; end: WindowEnd | null }> {
  const afterCondition = after
    ? sql`and (e.next_attempt_at, e.id) >
        ((${after.next_attempt_at}::timestamp at time zone 'UTC'), ${after.id}::bigint)`
    : sql``;
  const result = await sql<{ size: number; window_end: WindowEnd | null; leased: ClaimedEffect[] }>`
    with due as (
      select e.id, e.next_attempt_at from effect e
      where e.status = 'pending'
        and e.next_attempt_at <= now()
        and (e.lease_until is null or e.lease_until < now())
        ${afterCondition}
      order by e.next_attempt_at, e.id
      limit ${CLAIM_WINDOW}
    ), leased as (
      update effect
      set lease_until = now() + ${options.leaseMs} * interval '1 millisecond',
          lease_token = ${options.leaseToken},
          attempts = attempts + 1
      where id = any(array(
        select e.id from effect e
        where e.id in (select due.id from due)
          and e.status = 'pending'
          and e.next_attempt_at <= now()
          and (e.lease_until is null or e.lease_until < now())
          -- held back: an earlier pending effect of the key and channel is still to run; the key's few
          -- unfinished effects of the channel are found through the effect_ordering_key index
          and not exists (
            select 1 from effect earlier
            where earlier.ordering_key = e.ordering_key and earlier.channel = e.channel
              and earlier.id < e.id and earlier.status = 'pending'
          )
        order by e.next_attempt_at, e.id
        limit ${limit}
        for update skip locked
      ))
      returning id, organization_id, ordering_key, channel, sales_rep_id, kind, payload, attempts, next_attempt_at,
        -- asked here rather than by the mail and sync handlers, each in a round trip of its own; the literal
        -- 'done' lets the effect_ordering_key_done index serve it
        exists (
          select 1 from effect later
          where later.ordering_key = effect.ordering_key and later.channel = effect.channel
            and later.id > effect.id and later.status = 'done'
        ) as later_done
    )
    select
      (select count(*)::int from due) as size,
      (select json_build_object(
          'id', w.id::text,
          'next_attempt_at', to_char(w.next_attempt_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'))
        from due w order by w.next_attempt_at desc, w.id desc limit 1) as window_end,
      coalesce(
        (select json_agg(json_build_object(
            'id', l.id::text, 'organization_id', l.organization_id, 'ordering_key', l.ordering_key,
            'channel', l.channel, 'sales_rep_id', l.sales_rep_id, 'kind', l.kind, 'payload', l.payload,
            'attempts', l.attempts, 'later_done', l.later_done)
          order by l.next_attempt_at, l.id)
        from leased l),
        '[]'::json) as leased`.execute(db);
  const row = result.rows[0];
  return row
    ? { leased: row.leased, size: row.size, end: row.window_end }
    : { leased: [], size: 0, end: null };
}

/**
 * Marks claimed effects done, each with its outcome, in one statement; an effect whose lease was lost to another
 * worker meanwhile is left as it is.
 */
export async function markEffectsDone(
  db: Executor,
  leaseToken: string,
  done: readonly { id: string; outcome: string }[],
): Promise<void> {
  await sql`
    update effect
    set status = 'done', finished_at = now(), lease_until = null, lease_token = null, last_error = null,
        outcome = finished.outcome
    from (select unnest(${done.map((effect) => effect.id)}::bigint[]) as id,
                 unnest(${done.map((effect) => effect.outcome)}::text[]) as outcome) finished
    where effect.id = finished.id and effect.lease_token = ${leaseToken}`.execute(db);
}

/** Schedules the next attempt of a failed effect, or marks it dead when it has had its attempts. */
export async function markEffectFailed(
  db: Executor,
  id: string,
  leaseToken: string,
  failure: { error: string; retryInMs: number; dead: boolean },
) {
  await db
    .updateTable('effect')
    .set({
      status: failure.dead ? 'dead' : 'pending',
      next_attempt_at: sql`now() + ${failure.retryInMs} * interval '1 millisecond'`,
      finished_at: failure.dead ? sql`now()` : null,
      lease_until: null,
      lease_token: null,
      last_error: failure.error.slice(0, 2000),
    })
    .where('id', '=', id)
    .where('lease_token', '=', leaseToken)
    .execute();
}

export type VisibleEffectStatus = Exclude<EffectStatus, 'done'>;

/** An organization's effects that are not done, oldest first. */
export function listOpenEffects(
  db: Executor,
  filter: { organizationId?: string; statuses: VisibleEffectStatus[]; limit: number; offset: number },
) {
  let query = db
    .selectFrom('effect')
    .select([
      sql<string>`id::text`.as('id'),
      'organization_id',
      'ordering_key',
      'sales_rep_id',
      'kind',
      'status',
      'attempts',
      'next_attempt_at',
      'last_error',
      'created_at',
    ])
    .where('status', 'in', filter.statuses);
  if (filter.organizationId !== undefined) query = query.where('organization_id', '=', filter.organizationId);
  return query.orderBy('id').limit(filter.limit).offset(filter.offset).execute();
}

/**
 * Makes a dead effect pending again with a fresh set of attempts. Answers what was found: 'retried', 'not-dead'
 * (it exists in the organization but is not dead), or 'not-found'.
 */
export async function retryDeadEffect(
  db: Executor,
  id: string,
  organizationId: string | undefined,
): Promise<'retried' | 'not-dead' | 'not-found'> {
  let update = db
    .updateTable('effect')
    .set({ status: 'pending', attempts: 0, next_attempt_at: sql`now()`, finished_at: null })
    .where('id', '=', id)
    .where('status', '=', 'dead');
  if (organizationId !== undefined) update = update.where('organization_id', '=', organizationId);
  const result = await update.executeTakeFirst();
  if (result.numUpdatedRows > 0n) return 'retried';
  let lookup = db.selectFrom('effect').select('status').where('id', '=', id);
  if (organizationId !== undefined) lookup = lookup.where('organization_id', '=', organizationId);
  return (await lookup.executeTakeFirst()) ? 'not-dead' : 'not-found';
}

/** Pending effects by kind; served by the partial index on pending effects. */
export async function countPendingEffectsByKind(db: Executor) {
  return db
    .selectFrom('effect')
    .select(['kind', (eb) => eb.fn.countAll<string>().as('count')])
    .where('status', '=', 'pending')
    .groupBy('kind')
    .execute();
}

/**
 * Deletes up to `limit` effects that are over and older than their retention: done ones finished before
 * `doneBefore`, dead ones before `deadBefore`; answers how many. Rows another worker has locked are skipped, so
 * replicas purge side by side. A done effect recorded after an unfinished (dead, or retried and pending) effect of
 * its key and channel is kept while that one exists: it is what tells the retried effect that it runs out of order
 * (ClaimedEffect.later_done).
 */
export async function deleteExpiredEffects(
  db: Executor,
  options: { doneBefore: Date; deadBefore: Date; limit: number },
): Promise<number> {
  const result = await sql`
    delete from effect
    where id = any(array(
      select e.id from effect e
      where ((e.status = 'done' and e.finished_at < ${options.doneBefore})
          or (e.status = 'dead' and e.finished_at < ${options.deadBefore}))
        and not (e.status = 'done' and exists (
          select 1 from effect earlier
          where earlier.ordering_key = e.ordering_key and earlier.channel = e.channel
            and earlier.id < e.id and earlier.status <> 'done'
        ))
      limit ${options.limit}
      for update skip locked
    ))`.execute(db);
  return Number(result.numAffectedRows ?? 0n);
}
