// The identity provider the configuration chooses (local or Kinde) and its directory of new user ids.
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import { newId } from '../kernel/ids.js';
import { kindeClient, kindeIdentityProvider } from './kinde.js';
import { localIdentityProvider } from './local.js';
import {
  type IdentityDirectory,
  type IdentityProvider,
  IdentityProviderUnavailableError,
  LOCAL_IDENTITY_PROVIDER,
} from './port.js';
import { REQUEST_IDENTITY_BUDGET, retryAfterSecondsOf, withinRetryBudget } from './retry-budget.js';

/**
 * The local identity provider of the embedded default. A new rep's user id is reserved here, before the
 * transaction that stores it, so the PUT response shows the id the rep will log in with; the provisioning effect
 * later creates the account under exactly that id.
 */
export const localIdentityDirectory: IdentityDirectory = {
  name: LOCAL_IDENTITY_PROVIDER,
  userIdFor: async () => `local_${newId()}`,
};

/** The directory the use-cases ask for user ids, and the provider the effects change, as IDP says. */
export function identityFromConfig(
  config: Config,
  db: Db,
): { directory: IdentityDirectory; provider: IdentityProvider } {
  const kinde = config.effects.kinde;
  if (config.identityProvider === 'kinde' && kinde) {
    const client = kindeClient({ ...kinde, callTimeoutMs: config.effects.callTimeoutMs });
    return {
      // Kinde chooses its user ids, and the PUT response must show the final one: the user is found or created
      // by email before the transaction (an existing user is reused; a transaction that then fails leaves a
      // user without organization, which the next add of that email reuses). Transient faults are retried within
      // the request; each attempt finds by email before it creates, so a create whose answer was lost is found.
      directory: {
        name: 'Kinde',
        userIdFor: async (rep) => {
          try {
            return await withinRetryBudget(
              (deadline) => client.findOrCreateUser(rep, deadline),
              REQUEST_IDENTITY_BUDGET,
            );
          } catch (error) {
            throw new IdentityProviderUnavailableError(error, retryAfterSecondsOf(error));
          }
        },
      },
      provider: kindeIdentityProvider(client),
    };
  }
  return { directory: localIdentityDirectory, provider: localIdentityProvider(db) };
}
