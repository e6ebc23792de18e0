// The identity provider's effect handlers: provision, membership changes and deletion of a rep's user.
import { isSalesRepUser, membershipWanted, provisioningWanted } from '../../auth/rep-state.js';
import { type EffectHandlers, SUPERSEDED } from '../handler-contract.js';

/**
 * The identity provider's effects. They always check the current state: with Kinde a rep removed and added again in
 * an organization is a new rep (its own order) with the same Kinde user, so the old rep's revoke may come after the
 * new rep's provision, and must not take the active rep out of the organization.
 */
export const identityHandlers: Pick<
  EffectHandlers,
  'identity.provision' | 'identity.grantMembership' | 'identity.revokeMembership' | 'identity.deleteUser'
> = {
  async 'identity.provision'({ db, targets, claimed, deadline }, payload) {
    // Read once, before the provider is called: a deactivation committed after this read records a revoke, which
    // runs after this effect (the rep's identity effects run in order) and takes the membership away again.
    const wanted = await provisioningWanted(db, claimed.organization_id, payload.identityProviderUserId);
    if (!wanted.user) return SUPERSEDED;
    const userId = await targets.identity.ensureUser(
      {
        id: payload.identityProviderUserId,
        email: payload.email,
        firstName: payload.firstName,
        lastName: payload.lastName,
      },
      deadline,
    );
    if (!wanted.membership) return 'user ensured';
    await targets.identity.addMembership(userId, payload.identityOrganizationId, payload.roles, deadline);
    return 'user ensured, membership added';
  },

  async 'identity.grantMembership'({ db, targets, claimed, deadline }, payload) {
    if (!(await membershipWanted(db, claimed.organization_id, payload.identityProviderUserId))) {
      return SUPERSEDED;
    }
    await targets.identity.addMembership(
      payload.identityProviderUserId,
      payload.identityOrganizationId,
      payload.roles,
      deadline,
    );
    return 'membership added';
  },

  async 'identity.revokeMembership'({ db, targets, claimed, deadline }, payload) {
    if (await membershipWanted(db, claimed.organization_id, payload.identityProviderUserId))
      return SUPERSEDED;
    await targets.identity.removeMembership(
      payload.identityProviderUserId,
      payload.identityOrganizationId,
      deadline,
    );
    return 'membership removed';
  },

  async 'identity.deleteUser'({ db, targets, deadline }, payload) {
    // With Kinde a rep added again after its deletion gets the same user back (found by email).
    if (await isSalesRepUser(db, payload.identityProviderUserId)) return SUPERSEDED;
    await targets.identity.deleteUserWithoutMemberships(payload.identityProviderUserId, deadline);
    return 'user deleted unless in another organization';
  },
};
