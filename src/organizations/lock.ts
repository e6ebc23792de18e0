// The organization's row lock: changes that must not interleave within one organization take it first.
import { sql } from 'kysely';
import type { Trx } from '../db/database.js';

/** Takes the organization's row lock, held to the end of the transaction: one such change at a time per organization. */
export async function lockOrganization(trx: Trx, organizationId: string): Promise<void> {
  await trx.selectFrom('organization').select('id').where('id', '=', organizationId).forUpdate().execute();
}

/**
 * Before a creation capped per organization: takes the organization's lock, then refuses with `refusal` when the
 * organization already has `most` rows of `table`. One creation at a time per organization, so the cap holds under
 * concurrent calls.
 */
export async function lockBelowCap(
  trx: Trx,
  organizationId: string,
  cap: { table: 'scim_token' | 'webhook_subscription'; most: number; refusal: () => Error },
): Promise<void> {
  await lockOrganization(trx, organizationId);
  const { count } = await trx
    .selectFrom(cap.table)
    .select(sql<number>`count(*)::int`.as('count'))
    .where('organization_id', '=', organizationId)
    .executeTakeFirstOrThrow();
  if (count >= cap.most) throw cap.refusal();
}
