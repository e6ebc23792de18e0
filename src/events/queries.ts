// The audit log's SQL: a page of events by (occurred_at, seq), and the retention's delete.
import { CompiledQuery, sql } from 'kysely';
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
  /** Leave out the events of an import's customers, which its `customer.imported` event sums up. */
  collapseImports?: boolean | undefined;
}

/** An event as the page and the webhook deliveries read it. */
export interface EventRecord {
  id: string;
  /** occurred_at in UTC to the microsecond, as the database holds it (a Date would lose the microseconds). */
  position: string;
  organization_id: string;
  action: string;
  actor_type: 'user' | 'cli' | 'system' | 'scim';
  actor_id: string;
  targets: { type: string; id: string }[];
  request_id: string | null;
  changes: Record<string, { from: unknown; to: unknown }>;
}

/** An event of a page, with its sequence (the tie-break of its position in the cursor). */
export interface EventRow extends EventRecord {
  seq_text: string;
}

/** occurred_at as EventRecord.position holds it. */
export const EVENT_POSITION = sql<string>`to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')`;

/** What a page statement is run with. */
interface PageInputs {
  organizationId: string;
  filter: EventFilter;
  after: EventPosition | undefined;
  limit: number;
}

/** Stands for one of a page statement's values while it is compiled; `read` takes the value of a run. */
class PagePlaceholder {
  constructor(readonly read: (inputs: PageInputs) => unknown) {}
}

const placeholder = {
  organizationId: new PagePlaceholder((inputs) => inputs.organizationId),
  action: new PagePlaceholder((inputs) => inputs.filter.action),
  actorId: new PagePlaceholder((inputs) => inputs.filter.actorId),
  targetId: new PagePlaceholder((inputs) => inputs.filter.targetId),
  since: new PagePlaceholder((inputs) => inputs.filter.since),
  until: new PagePlaceholder((inputs) => inputs.filter.until),
  afterOccurredAt: new PagePlaceholder((inputs) => inputs.after?.occurredAt),
  afterSeq: new PagePlaceholder((inputs) => inputs.after?.seq),
  limit: new PagePlaceholder((inputs) => inputs.limit),
};

/**
 * The page statement of each combination of filters and cursor: built and compiled once, as the reps list's are
 * (src/salesreps/listing/), rather than on every request. Every dialect here compiles PostgreSQL.
 */
const pageStatements = new Map<string, CompiledQuery<EventRow>>();

function pageStatement(db: Executor, inputs: PageInputs): CompiledQuery<EventRow> {
  const { filter, after } = inputs;
  const present = [filter.action, filter.actorId, filter.targetId, filter.since, filter.until, after];
  const shape = `${present.map((part) => (part === undefined ? '-' : '+')).join('')}${filter.collapseImports ? '+' : '-'}`;
  let statement = pageStatements.get(shape);
  if (!statement) {
    const conditions = [sql`organization_id = ${placeholder.organizationId}`];
    if (filter.action !== undefined) conditions.push(sql`action = ${placeholder.action}`);
    if (filter.actorId !== undefined) conditions.push(sql`actor_id = ${placeholder.actorId}`);
    if (filter.targetId !== undefined)
      conditions.push(sql`target_ids @> array[${placeholder.targetId}]::text[]`);
    if (filter.since !== undefined) conditions.push(sql`occurred_at >= ${placeholder.since}`);
    if (filter.until !== undefined) conditions.push(sql`occurred_at < ${placeholder.until}`);
    if (filter.collapseImports) {
      conditions.push(
        sql`not (targets @> '[{"type": "customer_import"}]'::jsonb and action <> 'customer.imported')`,
      );
    }
    if (after !== undefined) {
      conditions.push(
        sql`(occurred_at, seq) < ((${placeholder.afterOccurredAt}::timestamp at time zone 'UTC'), ${placeholder.afterSeq}::bigint)`,
      );
    }
    statement = sql<EventRow>`
      select id, seq::text as seq_text, ${EVENT_POSITION} as position, organization_id, action, actor_type, actor_id,
        targets, request_id, changes
      from event
      where ${sql.join(conditions, sql` and `)}
      order by occurred_at desc, seq desc
      limit ${placeholder.limit}`.compile(db);
    pageStatements.set(shape, statement);
  }
  return statement;
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
  const inputs: PageInputs = { organizationId, filter, after, limit };
  const statement = pageStatement(db, inputs);
  const parameters = statement.parameters.map((parameter) =>
    parameter instanceof PagePlaceholder ? parameter.read(inputs) : parameter,
  );
  const { rows } = await db.executeQuery<EventRow>(CompiledQuery.raw(statement.sql, parameters));
  return rows;
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
