// The webhooks' SQL: subscriptions, secrets, the delivery log and failing state.
import type { Insertable } from 'kysely';
import { sql } from 'kysely';
import { jsonObjectFrom } from 'kysely/helpers/postgres';
import type { Executor } from '../db/database.js';
import type { WebhookDeliveryTable } from '../db/schema.js';
import { EVENT_POSITION, type EventRecord } from '../events/queries.js';

export function insertSubscription(
  db: Executor,
  row: { id: string; organization_id: string; url: string; event_types: string[] | null; secret: string },
) {
  return db.insertInto('webhook_subscription').values(row).returningAll().executeTakeFirstOrThrow();
}

export function listSubscriptions(db: Executor, organizationId: string, limit: number) {
  return db
    .selectFrom('webhook_subscription')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .orderBy('created_at')
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** The organization's subscription, locked for the transaction when `forUpdate`. */
export function findSubscription(
  db: Executor,
  organizationId: string | undefined,
  id: string,
  forUpdate = false,
) {
  let query = db.selectFrom('webhook_subscription').selectAll().where('id', '=', id);
  if (organizationId !== undefined) query = query.where('organization_id', '=', organizationId);
  return (forUpdate ? query.forUpdate() : query).executeTakeFirst();
}

export async function deleteSubscription(db: Executor, organizationId: string, id: string) {
  const result = await db
    .deleteFrom('webhook_subscription')
    .where('organization_id', '=', organizationId)
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

export function rotateSecret(db: Executor, id: string, secret: string, previousValidMs: number) {
  return db
    .updateTable('webhook_subscription')
    .set((eb) => ({
      previous_secret: eb.ref('secret'),
      previous_secret_until: sql<Date>`now() + ${previousValidMs} * interval '1 millisecond'`,
      secret,
    }))
    .where('id', '=', id)
    .execute();
}

/** How many attempts the delivery log keeps per subscription: the newest. */
const DELIVERY_LOG_SIZE = 100;

/**
 * Logs an attempt and drops the subscription's attempts beyond the newest DELIVERY_LOG_SIZE, in one statement (one
 * commit, where two cost a WAL flush each per delivery). The trim does not see the row being inserted (one snapshot),
 * so it keeps DELIVERY_LOG_SIZE - 1 of the others; rows another delivery of the subscription is trimming right now
 * are skipped rather than waited for.
 */
export async function logDelivery(db: Executor, row: Insertable<WebhookDeliveryTable>) {
  await db
    .with('logged', (cte) => cte.insertInto('webhook_delivery').values(row).returning('id'))
    .deleteFrom('webhook_delivery')
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('webhook_delivery as old')
        .select('old.id')
        .where('old.subscription_id', '=', row.subscription_id)
        .where('old.id', '<=', (inner) =>
          inner
            .selectFrom('webhook_delivery as newer')
            .select('newer.id')
            .where('newer.subscription_id', '=', row.subscription_id)
            .orderBy('newer.id', 'desc')
            .limit(1)
            .offset(DELIVERY_LOG_SIZE - 1),
        )
        .forUpdate()
        .skipLocked(),
    )
    .execute();
}

export function listDeliveries(db: Executor, subscriptionId: string, limit: number) {
  return db
    .selectFrom('webhook_delivery')
    .selectAll()
    .where('subscription_id', '=', subscriptionId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

/** A success: the subscription is no longer failing. */
export function markSucceeding(db: Executor, id: string) {
  return db
    .updateTable('webhook_subscription')
    .set({ failing_since: null })
    .where('id', '=', id)
    .where('failing_since', 'is not', null)
    .execute();
}

/** A failure: answers since when the subscription has been failing (now, if this is the first). */
export async function markFailing(db: Executor, id: string): Promise<Date | undefined> {
  const row = await db
    .updateTable('webhook_subscription')
    .set({ failing_since: sql<Date>`coalesce(failing_since, now())` })
    .where('id', '=', id)
    .returning('failing_since')
    .executeTakeFirst();
  return row?.failing_since ?? undefined;
}

/** Disables an enabled subscription; answers whether this call disabled it. */
export async function disableSubscription(db: Executor, id: string, reason: string): Promise<boolean> {
  const result = await db
    .updateTable('webhook_subscription')
    .set({ enabled: false, disabled_reason: reason })
    .where('id', '=', id)
    .where('enabled', '=', true)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * What a delivery needs, in one read: the subscription (undefined when deleted) with the event (null when past its
 * retention).
 */
export function findDelivery(db: Executor, subscriptionId: string, eventId: string) {
  return db
    .selectFrom('webhook_subscription')
    .selectAll()
    .select((eb) =>
      jsonObjectFrom(
        eb
          .selectFrom('event')
          .select([
            'id',
            EVENT_POSITION.as('position'),
            'organization_id',
            'action',
            'actor_type',
            'actor_id',
            'targets',
            'request_id',
            'changes',
          ])
          .where('event.id', '=', eventId),
      )
        .$castTo<EventRecord | null>()
        .as('event'),
    )
    .where('webhook_subscription.id', '=', subscriptionId)
    .executeTakeFirst();
}
