// The `salesreps effects` and `idp users` commands: list effects, retry a dead one, list local accounts.
import type { Db } from '../db/database.js';
import type { ChangeContext } from '../events/record.js';
import { listLocalAccounts } from '../identity/local.js';
import { findOrganizationByIdentityId } from '../organizations/queries.js';
import { listOpenEffects, type VisibleEffectStatus } from './queries.js';
import { retryAndRecord } from './service.js';

/** A thing the command names that does not exist, or is not in the state the command needs. */
export class EffectsCommandError extends Error {}

/** `salesreps effects list`: the admin endpoint's view, for every organization or one, as JSON. */
export async function listEffectsText(
  db: Db,
  options: { org: string | undefined; status: VisibleEffectStatus | undefined; limit: number },
): Promise<string> {
  const organizationId = options.org === undefined ? undefined : await organizationOf(db, options.org);
  const statuses: VisibleEffectStatus[] = options.status ? [options.status] : ['pending', 'dead'];
  const rows = await listOpenEffects(db, { organizationId, statuses, limit: options.limit, offset: 0 });
  // The command's JSON keeps its fields: an effect about no rep shows its ordering key as `sales_rep_id`.
  const listed = rows.map((row) => ({
    id: row.id,
    organization_id: row.organization_id,
    sales_rep_id: row.sales_rep_id ?? row.ordering_key,
    kind: row.kind,
    status: row.status,
    attempts: row.attempts,
    next_attempt_at: row.next_attempt_at,
    last_error: row.last_error,
    created_at: row.created_at,
  }));
  return JSON.stringify(listed, null, 2);
}

/** `salesreps effects retry`: a dead effect becomes pending again. */
export async function retryEffectText(db: Db, id: string, change: ChangeContext): Promise<string> {
  const result = await retryAndRecord(db, id, undefined, change);
  if (result === 'not-found') throw new EffectsCommandError(`No effect ${id}.`);
  if (result === 'not-dead')
    throw new EffectsCommandError(`Effect ${id} is not dead; only a dead one is retried.`);
  return `Effect ${id} is pending again; a running service carries it out.`;
}

/** `salesreps idp users`: the local identity provider's accounts and memberships, as JSON. */
export async function localAccountsText(db: Db): Promise<string> {
  return JSON.stringify(await listLocalAccounts(db), null, 2);
}

async function organizationOf(db: Db, identityOrganizationId: string): Promise<string> {
  const organization = await findOrganizationByIdentityId(db, identityOrganizationId);
  if (!organization)
    throw new EffectsCommandError(
      `No organization with identity organization id "${identityOrganizationId}".`,
    );
  return organization.id;
}
