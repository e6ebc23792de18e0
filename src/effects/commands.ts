import { parseArgs } from 'node:util';
import type { Db } from '../db/database.js';
import { listLocalAccounts } from '../identity/local.js';
import { findOrganizationByIdentityId } from '../organizations/queries.js';
import { listOpenEffects, retryDeadEffect, type VisibleEffectStatus } from './queries.js';

export const EFFECTS_USAGE =
  'Usage: salesreps effects list [--org IDENTITY_ORG_ID] [--status pending|dead] [--limit N]\n' +
  '       salesreps effects retry --id EFFECT_ID';
export const IDP_USAGE = 'Usage: salesreps idp users';

/** A mistake in the command's arguments, or a thing it names that does not exist. */
export class EffectsCommandError extends Error {}

/** `salesreps effects list|retry`: the admin endpoints' view, for every organization or one. Answers the output. */
export async function effectsCommand(db: Db, args: string[]): Promise<string> {
  const [subcommand, ...rest] = args;
  if (subcommand === 'list') {
    const { values } = parseArgs({
      args: rest,
      options: {
        org: { type: 'string' },
        status: { type: 'string' },
        limit: { type: 'string', default: '100' },
      },
    });
    if (values.status !== undefined && values.status !== 'pending' && values.status !== 'dead') {
      throw new EffectsCommandError('--status must be pending or dead');
    }
    const limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
      throw new EffectsCommandError('--limit must be a whole number from 1 to 10000');
    }
    const organizationId = values.org === undefined ? undefined : await organizationOf(db, values.org);
    const statuses: VisibleEffectStatus[] = values.status ? [values.status] : ['pending', 'dead'];
    const rows = await listOpenEffects(db, { organizationId, statuses, limit, offset: 0 });
    return JSON.stringify(rows, null, 2);
  }
  if (subcommand === 'retry') {
    const { values } = parseArgs({ args: rest, options: { id: { type: 'string' } } });
    if (!values.id || !/^[1-9][0-9]{0,17}$/.test(values.id)) throw new EffectsCommandError(EFFECTS_USAGE);
    const result = await retryDeadEffect(db, values.id, undefined);
    if (result === 'not-found') throw new EffectsCommandError(`No effect ${values.id}.`);
    if (result === 'not-dead')
      throw new EffectsCommandError(`Effect ${values.id} is not dead; only a dead one is retried.`);
    return `Effect ${values.id} is pending again; a running service carries it out.`;
  }
  throw new EffectsCommandError(EFFECTS_USAGE);
}

/** `salesreps idp users`: the local identity provider's accounts and memberships, as JSON. */
export async function idpCommand(db: Db, args: string[]): Promise<string> {
  if (args[0] !== 'users' || args.length > 1) throw new EffectsCommandError(IDP_USAGE);
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
