/*
 * The identity provider, as the rest of the service sees it: the directory the use-cases ask for a new rep's user id
 * (synchronously, before the change's transaction), and the provider the effects change afterwards. Implemented by
 * the local provider (IDP=local) and the Kinde client (IDP=kinde); chosen in `from-config.ts`.
 */

/** The name of the local identity provider (IDP=local), whose people sign in through the embedded sign-in. */
export const LOCAL_IDENTITY_PROVIDER = 'Local';

/** The identity provider as the use-cases see it: its name, and the user id a new rep will have there. */
export interface IdentityDirectory {
  /** Shown as `identityProvider` in responses, e.g. "Local" or "Kinde". */
  name: string;
  /**
   * The provider's user id for a new rep; must be final once returned (the PUT response shows it). Throws
   * IdentityProviderUnavailableError when the provider cannot answer.
   */
  userIdFor(rep: { email: string; firstName: string; lastName: string }): Promise<string>;
}

/** The identity provider did not answer in time, or answered with a fault: nothing was changed. */
export class IdentityProviderUnavailableError extends Error {
  constructor(
    cause: unknown,
    /** When to try again: what the provider's own Retry-After asked for, else a few seconds. */
    readonly retryAfterSeconds = 5,
  ) {
    super('The identity provider did not answer', { cause });
  }
}

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
