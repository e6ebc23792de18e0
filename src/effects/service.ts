import type { Executor } from '../db/database.js';
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
    salesRepId: row.sales_rep_id,
    attempts: row.attempts,
    nextAttemptAt: new Date(row.next_attempt_at).toISOString(),
    lastError: row.last_error,
    createdAt: new Date(row.created_at).toISOString(),
  }));
}

/** Gives a dead effect of the organization a fresh set of attempts; another tenant's effect is not found. */
export async function retryEffect(db: Executor, organizationId: string, effectId: string): Promise<void> {
  const result = await retryDeadEffect(db, effectId, organizationId);
  if (result === 'not-found') throw notFound('No effect with that effectId in this organization.');
  if (result === 'not-dead') throw conflict('effect-not-dead', 'Only a dead effect can be retried.');
}
