import type { Db } from '../db/database.js';
import { isSalesRepUser } from '../salesreps/queries.js';
import type { Mailer } from './email/mailer.js';
import { invitationMessage } from './email/messages.js';
import { PermanentEffectError } from './errors.js';
import type { IdentityProvider } from './identity/provider.js';
import type { Effect } from './outbox.js';
import {
  assignmentState,
  type ClaimedEffect,
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
 * find-before-change at the provider), so a repeat after a crash changes nothing. Every call made for it shares
 * `deadline`.
 */
export async function carryOut(
  db: Db,
  targets: EffectTargets,
  claimed: ClaimedEffect,
  deadline: AbortSignal,
): Promise<string> {
  const effect = { kind: claimed.kind, payload: claimed.payload } as Effect;
  const organizationId = claimed.organization_id;
  const salesRepId = claimed.sales_rep_id;
  // Mail and sync effects in order are carried out as recorded. Out of order (a dead one retried after later effects
  // of its rep and channel were done), they are checked against the current state first, and skipped when a later
  // change undid them.
  const stale = async (stillWanted: () => Promise<boolean>) =>
    (await laterEffectDone(db, claimed)) && !(await stillWanted());
  switch (effect.kind) {
    // Identity effects always check the current state: with Kinde a rep removed and added again in an organization
    // is a new rep (its own order) with the same Kinde user, so the old rep's revoke may come after the new rep's
    // provision, and must not take the active rep out of the organization.
    case 'identity.provision': {
      const { payload } = effect;
      if (!(await isSalesRepUser(db, payload.identityProviderUserId))) return SUPERSEDED;
      const userId = await targets.identity.ensureUser(
        {
          id: payload.identityProviderUserId,
          email: payload.email,
          firstName: payload.firstName,
          lastName: payload.lastName,
        },
        deadline,
      );
      if (!(await membershipWanted(db, organizationId, payload.identityProviderUserId)))
        return 'user ensured';
      await targets.identity.addMembership(userId, payload.identityOrganizationId, payload.roles, deadline);
      return 'user ensured, membership added';
    }
    case 'identity.grantMembership': {
      const { payload } = effect;
      if (!(await membershipWanted(db, organizationId, payload.identityProviderUserId))) return SUPERSEDED;
      await targets.identity.addMembership(
        payload.identityProviderUserId,
        payload.identityOrganizationId,
        payload.roles,
        deadline,
      );
      return 'membership added';
    }
    case 'identity.revokeMembership': {
      const { payload } = effect;
      if (await membershipWanted(db, organizationId, payload.identityProviderUserId)) return SUPERSEDED;
      await targets.identity.removeMembership(
        payload.identityProviderUserId,
        payload.identityOrganizationId,
        deadline,
      );
      return 'membership removed';
    }
    case 'identity.deleteUser': {
      const { payload } = effect;
      // With Kinde a rep added again after its deletion gets the same user back (found by email).
      if (await isSalesRepUser(db, payload.identityProviderUserId)) return SUPERSEDED;
      await targets.identity.deleteUserWithoutMemberships(payload.identityProviderUserId, deadline);
      return 'user deleted unless in another organization';
    }
    case 'email.welcome':
    case 'email.reinvitation': {
      const wanted = effect.kind === 'email.welcome' ? ['active', 'inactive'] : ['active'];
      if (await stale(async () => wanted.includes(await assignmentState(db, organizationId, salesRepId)))) {
        return SUPERSEDED;
      }
      const kind = effect.kind === 'email.welcome' ? 'welcome' : 'reinvitation';
      await targets.mailer.send(
        claimed.id,
        invitationMessage(kind, effect.payload, targets.loginUrl),
        deadline,
      );
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
      await targets.sync.send(claimed.id, effect, deadline);
      return 'sync told';
    }
    default:
      throw new PermanentEffectError(`Unknown effect kind "${claimed.kind}"`);
  }
}
