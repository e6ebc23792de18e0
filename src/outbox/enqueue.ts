// The outbox's write side: effect rows enqueued in the caller's transaction, each with its ordering key and channel.
import { type QueryCreator, type SelectQueryBuilder, sql } from 'kysely';
import type { Trx } from '../db/database.js';
import type { Tables } from '../db/schema.js';

/** One effect to enqueue. Its channel is its kind's prefix (`email.welcome` → `email`). */
export interface OutboxEntry {
  organizationId: string;
  /** Effects of one key and channel are carried out one at a time, in the order enqueued. */
  orderingKey: string;
  /** The rep the effect is about; null for one about no rep. */
  salesRepId: string | null;
  kind: string;
  payload: unknown;
}

/**
 * The columns, in this order, of each row a SELECT gives `enqueueSelected`: an INSERT … SELECT matches them by
 * position, not by name.
 */
export interface SelectedOutboxRow {
  organization_id: string;
  ordering_key: string;
  sales_rep_id: string | null;
  payload: unknown;
}

/**
 * The PostgreSQL notification channel that every enqueue signals: the notification goes out when the transaction
 * commits (never for one rolled back), so that the workers of other replicas, listening, claim the new effects
 * then rather than at their next poll.
 */
export const NEW_EFFECTS_CHANNEL = 'salesreps_new_effects';

/**
 * A RETURNING column that signals NEW_EFFECTS_CHANNEL in the enqueueing statement itself (no round trip of its
 * own); PostgreSQL sends a transaction's identical notifications once.
 */
const notifyWorkers = sql<string>`pg_notify(${NEW_EFFECTS_CHANNEL}, '')`.as('notified');

/** The channel of an effect kind: a key's effects are ordered within one channel, and channels go their own pace. */
function channelOf(kind: string): string {
  return kind.split('.')[0] ?? kind;
}

function row(entry: OutboxEntry) {
  return {
    organization_id: entry.organizationId,
    ordering_key: entry.orderingKey,
    channel: channelOf(entry.kind),
    sales_rep_id: entry.salesRepId,
    kind: entry.kind,
    payload: JSON.stringify(entry.payload),
  };
}

/** Enqueues one effect in the caller's transaction and answers its id. */
export async function enqueueOne(trx: Trx, entry: OutboxEntry): Promise<string> {
  const inserted = await trx
    .insertInto('effect')
    .values(row(entry))
    .returning([sql<string>`id::text`.as('id'), notifyWorkers])
    .executeTakeFirstOrThrow();
  return inserted.id;
}

/** Enqueues effects in the caller's transaction, in order: those of one key and channel run in that order. */
export async function enqueue(trx: Trx, entries: readonly OutboxEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await trx.insertInto('effect').values(entries.map(row)).returning(notifyWorkers).execute();
}

/**
 * Enqueues, in one INSERT … SELECT, an effect of `kind` for every row `rows` selects, in the order it selects them
 * (its ORDER BY). `db` is the caller's transaction, or a `with` of it whose common table expressions `rows` reads,
 * so that what produces the rows (an insert's RETURNING) and their effects are one statement.
 */
export async function enqueueSelected<DB extends Tables, RowsDB, RowsTB extends keyof RowsDB>(
  db: QueryCreator<DB>,
  kind: string,
  rows: SelectQueryBuilder<RowsDB, RowsTB, SelectedOutboxRow>,
): Promise<void> {
  await db
    .insertInto('effect')
    .columns(['organization_id', 'ordering_key', 'sales_rep_id', 'payload', 'kind', 'channel'])
    .expression(
      rows.select([
        sql<string>`${kind}::text`.as('kind'),
        sql<string>`${channelOf(kind)}::text`.as('channel'),
      ]),
    )
    .returning(notifyWorkers)
    .execute();
}
