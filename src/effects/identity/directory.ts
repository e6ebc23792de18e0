import { newId } from '../../ids.js';
import type { IdentityDirectory } from '../../salesreps/service.js';

/**
 * The local identity provider of the embedded default. A new rep's user id is reserved here, before the
 * transaction that stores it, so the PUT response shows the id the rep will log in with; the provisioning effect
 * later creates the account under exactly that id.
 */
export const localIdentityDirectory: IdentityDirectory = {
  name: 'Local',
  userIdFor: async () => `local_${newId()}`,
};
