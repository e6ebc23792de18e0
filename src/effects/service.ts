// The effects' use-cases: list an organization's open effects, retry a dead one and record it.
import type { Db, Executor } from '../db/database.js';
import { type ChangeContext, recordEvents } from '../events/record.js';
import { conflict, notFound } from '../kernel/problem.js';
import { listOpenEffects, retryDeadEffect } from './queries.js';
import type { EffectView, ListEffectsQuery } from './schemas.js';

/** The organization's effects that are pending or dead, oldest first. */
export async function listEffects(
  db: Executor,
  organizationId: string,
  query: ListEffectsQuery,
): Promise<EffectView[]> {
  const pageSize = query.pageSize ?? 50;
  const rows = await listOpenEffects(db, {
    organizationId,
    statuses: query.status ? [query.status] : ['pending', 'dead'],
    limit: pageSize,
    offset: ((query.pageNumber ?? 1) - 1) * pageSize,
  });
  return rows.map((row) => ({
    effectId: row.id,
    kind: row.kind,
    status: row.status === 'dead' ? 'dead' : 'pending',
    // An effect about no rep (a sign-in mail, an event delivery) shows its ordering key, as it always has.
    salesRepId: row.sales_rep_id ?? row.ordering_key,
    attempts: row.attempts,
    nextAttemptAt: new Date(row.next_attempt_at).toISOString(),
    lastError: row.last_error,
    createdAt: new Date(row.created_at).toISOString(),
  }));
}

/**
 * Gives a dead effect a fresh set of attempts and records `effect.retried` in the same transaction; with an
 * organization, only an effect of that organization is found.
 */
export function retryAndRecord(
  db: Db,
  effectId: string,
  organizationId: string | undefined,
  change: ChangeContext,
): Promise<'retried' | 'not-dead' | 'not-found'> {
  return db.transaction().execute(async (trx) => {
    const result = await retryDeadEffect(trx, effectId, organizationId);
    if (result !== 'retried') return result;
    const effect = await trx
      .selectFrom('effect')
      .select('organization_id')
      .where('id', '=', effectId)
      .executeTakeFirstOrThrow();
    await recordEvents(trx, change, effect.organization_id, [
      {
        action: 'effect.retried',
        targets: [{ type: 'effect', id: effectId }],
        changes: { status: { from: 'dead', to: 'pending' } },
      },
    ]);
    return result;
  });
}

/** Gives a dead effect of the organization a fresh set of attempts; another tenant's effect is not found. */
export async function retryEffect(
  db: Db,
  organizationId: string,
  effectId: string,
  change: ChangeContext,
): Promise<void> {
  const result = await retryAndRecord(db, effectId, organizationId, change);
  if (result === 'not-found') throw notFound('No effect with that effectId in this organization.');
  if (result === 'not-dead') throw conflict('effect-not-dead', 'Only a dead effect can be retried.');
}
