/**
 * What the effects need of an identity provider. Every operation is idempotent: doing it twice changes nothing.
 * `deadline` is the effect's: every call made for it stops there.
 */
export interface IdentityProvider {
  /** Finds the user by email or creates it; answers the provider's user id. */
  ensureUser(
    user: { id: string; email: string; firstName: string; lastName: string },
    deadline: AbortSignal,
  ): Promise<string>;
  /** Makes the user a member of the organization with these role keys (a member already is left as is). */
  addMembership(
    userId: string,
    identityOrganizationId: string,
    roles: string[],
    deadline: AbortSignal,
  ): Promise<void>;
  /** Removes the user from that organization only. */
  removeMembership(userId: string, identityOrganizationId: string, deadline: AbortSignal): Promise<void>;
  /** Deletes the user when it belongs to no organization any more; a user already gone is success. */
  deleteUserWithoutMemberships(userId: string, deadline: AbortSignal): Promise<void>;
}
