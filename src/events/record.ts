// Recording events in the transaction of their change, with their webhook deliveries through the outbox.
import { sql } from 'kysely';
import type { Trx } from '../db/database.js';
import type { ActorType } from '../db/schema.js';
import { newId } from '../kernel/ids.js';
import { enqueueSelected } from '../outbox/enqueue.js';
import type { EventAction } from './actions.js';

/**
 * Who made a change: the token's user, an organization's directory (`scim`, by its SCIM token's id), the command
 * line (the OS user running it), or the service itself.
 */
interface Actor {
  type: ActorType;
  id: string;
}

/** What every change carries from where it was asked for (a request, the CLI) into its use-case. */
export interface ChangeContext {
  actor: Actor;
  /** The request's id (`x-request-id`); null for the CLI and the service's own changes. */
  requestId: string | null;
}

/** A change asked for by an authorized request: its user is the actor, its id the request id. */
export function requestChange(request: {
  id: string;
  auth?: { principal: { userId: string }; scimTokenId?: string | undefined } | undefined;
}): ChangeContext {
  if (!request.auth) throw new Error('A change was asked for by a request without authorization');
  const { scimTokenId } = request.auth;
  return {
    actor: scimTokenId
      ? { type: 'scim', id: scimTokenId }
      : { type: 'user', id: request.auth.principal.userId },
    requestId: request.id,
  };
}

/** A change the service makes by itself (e.g. disabling a failing webhook). */
export const SYSTEM_CHANGE: ChangeContext = { actor: { type: 'system', id: 'salesreps' }, requestId: null };

export interface Target {
  /** `user`: a person by the user id the API's tokens carry (the sign-in events). */
  type:
    | 'organization_sales_rep'
    | 'sales_rep'
    | 'customer'
    /** A bulk PUT of customers, by an id of its own: its summary and each of its customers' events name it. */
    | 'customer_import'
    | 'effect'
    | 'webhook'
    | 'user'
    | 'scim_token'
    | 'sso_connection'
    | 'sso_setup_link';
  id: string;
}

/** What changed: each field with its value before (null when it did not exist) and after (null when gone). */
export type Changes = Record<string, { from: unknown; to: unknown }>;

export interface NewEvent {
  action: EventAction;
  targets: Target[];
  changes: Changes;
}

/**
 * Records events in the caller's transaction: they commit with the change or not at all, and an event once
 * committed is never changed. In the same statement the outbox enqueues a delivery effect (kind `webhook.deliver`,
 * src/effects/outbox.ts) for each event and every enabled webhook of the organization that takes its action, with
 * the ordering key `webhook:<subscription id>:<first target id>`: the outbox delivers the events of one thing (a rep,
 * a customer) to one webhook in the order recorded, and those of different things side by side (docs/events.md,
 * "In order"). Answers the new events' ids, in order.
 */
export async function recordEvents(
  trx: Trx,
  context: ChangeContext,
  organizationId: string,
  events: NewEvent[],
): Promise<string[]> {
  if (events.length === 0) return [];
  const ids = events.map(() => newId());
  const rows = events.map((event, index) => ({
    id: ids[index] as string,
    organization_id: organizationId,
    action: event.action,
    actor_type: context.actor.type,
    actor_id: context.actor.id,
    targets: JSON.stringify(event.targets),
    target_ids: event.targets.map((target) => target.id),
    request_id: context.requestId,
    changes: JSON.stringify(realChanges(event.changes)),
  }));
  const withRecorded = trx.with('recorded', (db) =>
    db.insertInto('event').values(rows).returning(['id', 'action', 'seq', 'target_ids']),
  );
  // The rows are read from the statement's own `recorded`, so they are built without the WITH that defines it.
  const fromRecorded = trx.withTables<{
    recorded: { id: string; action: string; seq: string; target_ids: string[] };
  }>();
  await enqueueSelected(
    withRecorded,
    'webhook.deliver',
    fromRecorded
      .selectFrom('recorded')
      .innerJoin('webhook_subscription as s', (join) => join.on('s.organization_id', '=', organizationId))
      .where('s.enabled', '=', true)
      .where(sql<boolean>`(s.event_types is null or recorded.action = any(s.event_types))`)
      .select([
        's.organization_id',
        sql<string>`'webhook:' || s.id || ':' || coalesce(recorded.target_ids[1], '')`.as('ordering_key'),
        sql<string | null>`null::text`.as('sales_rep_id'),
        sql<unknown>`jsonb_build_object('eventId', recorded.id, 'subscriptionId', s.id)`.as('payload'),
      ])
      .orderBy('recorded.seq')
      .orderBy('s.id'),
  );
  return ids;
}

/** The changes whose value before and after differ: `{ from: null, to: null }` (a field created empty) says nothing. */
function realChanges(changes: Changes): Changes {
  return Object.fromEntries(
    Object.entries(changes).filter(
      ([, { from, to }]) => JSON.stringify(from ?? null) !== JSON.stringify(to ?? null),
    ),
  );
}

/** The changes of fields that differ between `before` and `after` (compared as JSON), in the order of `after`. */
export function changesBetween(before: Record<string, unknown>, after: Record<string, unknown>): Changes {
  const changes: Changes = {};
  for (const [field, to] of Object.entries(after)) {
    const from = before[field] ?? null;
    if (JSON.stringify(from) !== JSON.stringify(to ?? null)) changes[field] = { from, to: to ?? null };
  }
  return changes;
}

/** A thing that came into being: every field from null. */
export function created(values: Record<string, unknown>): Changes {
  return Object.fromEntries(
    Object.entries(values).map(([field, to]) => [field, { from: null, to: to ?? null }]),
  );
}

/** A thing that is gone: every field to null. */
export function removed(values: Record<string, unknown>): Changes {
  return Object.fromEntries(
    Object.entries(values).map(([field, from]) => [field, { from: from ?? null, to: null }]),
  );
}
