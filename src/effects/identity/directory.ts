import type { Config } from '../../config.js';
import type { Db } from '../../db/database.js';
import { ProblemError } from '../../http/problem.js';
import { newId } from '../../ids.js';
import type { IdentityDirectory } from '../../salesreps/service.js';
import { kindeClient, kindeIdentityProvider } from './kinde.js';
import { localIdentityProvider } from './local.js';
import type { IdentityProvider } from './provider.js';
import { REQUEST_IDENTITY_BUDGET, retryAfterSecondsOf, withinRetryBudget } from './retry-budget.js';

/**
 * The local identity provider of the embedded default. A new rep's user id is reserved here, before the
 * transaction that stores it, so the PUT response shows the id the rep will log in with; the provisioning effect
 * later creates the account under exactly that id.
 */
export const localIdentityDirectory: IdentityDirectory = {
  name: 'Local',
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
            const problem = new ProblemError(
              503,
              'identity-provider-unavailable',
              'The identity provider did not answer; nothing was changed. Try again shortly.',
              undefined,
              { 'retry-after': String(retryAfterSecondsOf(error)) },
            );
            // Kept for the log line of the error handler; never shown to the caller.
            throw Object.assign(problem, { cause: error });
          }
        },
      },
      provider: kindeIdentityProvider(client),
    };
  }
  return { directory: localIdentityDirectory, provider: localIdentityProvider(db) };
}
