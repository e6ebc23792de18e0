import { sql } from 'kysely';
import type { Executor } from '../db/database.js';

/** Where a page starts: just after (older than) this event, in (occurred_at, seq) order. */
export interface EventPosition {
  /** occurred_at in UTC to the microsecond, as the database holds it (a Date would lose the microseconds). */
  occurredAt: string;
  seq: string;
}

export interface EventFilter {
  action?: string | undefined;
  actorId?: string | undefined;
  targetId?: string | undefined;
  /** occurred_at ≥ since */
  since?: Date | undefined;
  /** occurred_at < until */
  until?: Date | undefined;
}

export interface EventRow {
  id: string;
  seq_text: string;
  position: string;
  organization_id: string;
  occurred_at: Date;
  action: string;
  actor_type: 'user' | 'cli' | 'system';
  actor_id: string;
  targets: { type: string; id: string }[];
  request_id: string | null;
  changes: Record<string, { from: unknown; to: unknown }>;
}

/**
 * Up to `limit` of the organization's events matching the filter, newest first, after `after` — a keyset read of
 * the (organization, [filter,] occurred_at, seq) indexes: a page deep in a long history costs what the first does,
 * and events written meanwhile never shift a page (no OFFSET).
 */
export async function selectEventsPage(
  db: Executor,
  organizationId: string,
  filter: EventFilter,
  after: EventPosition | undefined,
  limit: number,
): Promise<EventRow[]> {
  let query = db
    .selectFrom('event')
    .select([
      'id',
      sql<string>`seq::text`.as('seq_text'),
      sql<string>`to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')`.as('position'),
      'organization_id',
      'occurred_at',
      'action',
      'actor_type',
      'actor_id',
      'targets',
      'request_id',
      'changes',
    ])
    .where('organization_id', '=', organizationId);
  if (filter.action !== undefined) query = query.where('action', '=', filter.action);
  if (filter.actorId !== undefined) query = query.where('actor_id', '=', filter.actorId);
  if (filter.targetId !== undefined)
    query = query.where(sql<boolean>`target_ids @> array[${filter.targetId}]::text[]`);
  if (filter.since !== undefined) query = query.where('occurred_at', '>=', filter.since as never);
  if (filter.until !== undefined) query = query.where('occurred_at', '<', filter.until as never);
  if (after !== undefined) {
    query = query.where(
      sql<boolean>`(occurred_at, seq) < ((${after.occurredAt}::timestamp at time zone 'UTC'), ${after.seq}::bigint)`,
    );
  }
  const rows = await query
    .orderBy('event.occurred_at', 'desc')
    .orderBy('event.seq', 'desc')
    .limit(limit)
    .execute();
  return rows as EventRow[];
}

/** Deletes up to `limit` events that occurred before `before` (found through the BRIN index); answers how many. */
export async function deleteExpiredEvents(db: Executor, before: Date, limit: number): Promise<number> {
  const result = await sql`
    delete from event
    where id = any(array(
      select e.id from event e
      where e.occurred_at < ${before}
      limit ${limit}
      for update skip locked
    ))`.execute(db);
  return Number(result.numAffectedRows ?? 0n);
}
