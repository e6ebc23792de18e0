import type { Db } from '../db/database.js';
import type { Mailer } from './email/mailer.js';
import { invitationMessage } from './email/messages.js';
import { PermanentEffectError } from './errors.js';
import type { IdentityProvider } from './identity/provider.js';
import type { Effect } from './outbox.js';
import {
  assignmentState,
  type ClaimedEffect,
  identityUserInUse,
  laterEffectDone,
  membershipWanted,
  salesRepExists,
} from './queries.js';
import type { SyncTarget } from './sync/webhook.js';

/** Where effects are carried out. */
export interface EffectTargets {
  identity: IdentityProvider;
  mailer: Mailer;
  /** Absent when SYNC=none: sync effects are then done with nothing to tell. */
  sync: SyncTarget | undefined;
  loginUrl: string;
}

export const SUPERSEDED = 'skipped: superseded by a later change';

/**
 * Carries one effect out and answers its outcome. Every operation is idempotent (keyed by the effect id, or a
 * find-before-change at the provider), so a repeat after a crash changes nothing.
 */
export async function carryOut(db: Db, targets: EffectTargets, claimed: ClaimedEffect): Promise<string> {
  const effect = { kind: claimed.kind, payload: claimed.payload } as Effect;
  const organizationId = claimed.organization_id;
  const salesRepId = claimed.sales_rep_id;
  // In order, an effect is carried out as recorded. Out of order (a dead one retried after later effects of its rep
  // were done), it is checked against the current state first, and skipped when a later change undid it.
  const outOfOrder = await laterEffectDone(db, salesRepId, claimed.id);
  const stale = async (stillWanted: () => Promise<boolean>) => outOfOrder && !(await stillWanted());
  switch (effect.kind) {
    case 'identity.provision': {
      const { payload } = effect;
      if (await stale(() => identityUserInUse(db, payload.identityProviderUserId))) return SUPERSEDED;
      const userId = await targets.identity.ensureUser({
        id: payload.identityProviderUserId,
        email: payload.email,
        firstName: payload.firstName,
        lastName: payload.lastName,
      });
      if (!(await membershipWanted(db, organizationId, payload.identityProviderUserId)))
        return 'user ensured';
      await targets.identity.addMembership(userId, payload.identityOrganizationId, payload.roles);
      return 'user ensured, membership added';
    }
    case 'identity.grantMembership': {
      const { payload } = effect;
      if (await stale(() => membershipWanted(db, organizationId, payload.identityProviderUserId)))
        return SUPERSEDED;
      await targets.identity.addMembership(
        payload.identityProviderUserId,
        payload.identityOrganizationId,
        payload.roles,
      );
      return 'membership added';
    }
    case 'identity.revokeMembership': {
      const { payload } = effect;
      if (
        await stale(async () => !(await membershipWanted(db, organizationId, payload.identityProviderUserId)))
      ) {
        return SUPERSEDED;
      }
      await targets.identity.removeMembership(payload.identityProviderUserId, payload.identityOrganizationId);
      return 'membership removed';
    }
    case 'identity.deleteUser': {
      const { payload } = effect;
      // Always checked: with Kinde a rep added again after its deletion gets the same user back (found by email).
      if (await identityUserInUse(db, payload.identityProviderUserId)) return SUPERSEDED;
      await targets.identity.deleteUserWithoutMemberships(payload.identityProviderUserId);
      return 'user deleted unless in another organization';
    }
    case 'email.welcome':
    case 'email.reinvitation': {
      const wanted = effect.kind === 'email.welcome' ? ['active', 'inactive'] : ['active'];
      if (await stale(async () => wanted.includes(await assignmentState(db, organizationId, salesRepId)))) {
        return SUPERSEDED;
      }
      const kind = effect.kind === 'email.welcome' ? 'welcome' : 'reinvitation';
      await targets.mailer.send(claimed.id, invitationMessage(kind, effect.payload, targets.loginUrl));
      return 'mail sent';
    }
    case 'sync.grant':
    case 'sync.revoke':
    case 'sync.deleteAccount': {
      const stillWanted = async () => {
        const state =
          effect.kind === 'sync.deleteAccount'
            ? (await salesRepExists(db, salesRepId))
              ? 'exists'
              : 'gone'
            : await assignmentState(db, organizationId, salesRepId);
        const current =
          effect.kind === 'sync.grant'
            ? state === 'active'
            : effect.kind === 'sync.revoke'
              ? state !== 'active'
              : state === 'gone';
        return current;
      };
      if (await stale(stillWanted)) return SUPERSEDED;
      if (!targets.sync) return 'no sync configured';
      await targets.sync.send(claimed.id, effect);
      return 'sync told';
    }
    default:
      throw new PermanentEffectError(`Unknown effect kind "${claimed.kind}"`);
  }
}
