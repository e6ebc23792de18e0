// The local identity provider: accounts and memberships kept in the service's own tables.
import { sql } from 'kysely';
import type { Db, Executor } from '../db/database.js';
import type { IdentityProvider } from './port.js';

/**
 * IDP=local: accounts and memberships kept in the service's own tables, so that what a Kinde deployment would hold
 * can be seen (`salesreps idp users`) and tested without Kinde. The account id is the id reserved for the rep.
 */
export function localIdentityProvider(db: Db): IdentityProvider {
  // Database writes only: the effect's deadline is not needed.
  return {
    // The account is keyed by the id reserved for the rep, not by email: a rep removed and added again gets a new
    // id, and its old account (awaiting its own deletion effect) must not be mistaken for the new one.
    async ensureUser(user) {
      await db
        .insertInto('idp_account')
        .values({ id: user.id, email: user.email, first_name: user.firstName, last_name: user.lastName })
        .onConflict((conflict) => conflict.column('id').doNothing())
        .execute();
      return user.id;
    },
    async addMembership(userId, identityOrganizationId, roles) {
      await db
        .insertInto('idp_membership')
        .values({ account_id: userId, identity_organization_id: identityOrganizationId, roles })
        .onConflict((conflict) =>
          conflict.columns(['account_id', 'identity_organization_id']).doUpdateSet({ roles }),
        )
        .execute();
    },
    async removeMembership(userId, identityOrganizationId) {
      await db.transaction().execute(async (trx) => {
        await trx
          .deleteFrom('idp_membership')
          .where('account_id', '=', userId)
          .where('identity_organization_id', '=', identityOrganizationId)
          .execute();
        const remaining = await trx
          .selectFrom('idp_membership')
          .select('account_id')
          .where('account_id', '=', userId)
          .executeTakeFirst();
        // A person without an organization keeps no way in: its sign-in sessions end with the last one.
        if (!remaining) await endAccountSessions(trx, userId);
      });
    },
    async deleteUserWithoutMemberships(userId) {
      await db
        .deleteFrom('idp_account')
        .where('id', '=', userId)
        .where(({ not, exists, selectFrom }) =>
          not(exists(selectFrom('idp_membership').select('account_id').where('account_id', '=', userId))),
        )
        .execute();
    },
  };
}

/**
 * Ends every session, grant, code and refresh token the embedded sign-in holds for the account (oidc-provider's
 * records, and the organization of each grant): after a password is set or reset, or the person's last
 * organization is gone. Rare, so the records are found by their account without an index of their own.
 */
export async function endAccountSessions(db: Executor, accountId: string): Promise<void> {
  const grants = db.selectFrom('signin_grant').select('grant_id').where('account_id', '=', accountId);
  await db
    .deleteFrom('oidc_payload')
    .where((eb) =>
      eb.or([
        eb(sql<string>`payload->>'accountId'`, '=', accountId),
        eb(sql<string>`payload->'session'->>'accountId'`, '=', accountId),
        eb('grant_id', 'in', grants),
      ]),
    )
    .execute();
  await db.deleteFrom('signin_grant').where('account_id', '=', accountId).execute();
}

/** Every local account with its memberships, for `salesreps idp users`. */
export async function listLocalAccounts(db: Db) {
  const accounts = await db.selectFrom('idp_account').selectAll().orderBy('email').execute();
  const memberships = await db
    .selectFrom('idp_membership')
    .selectAll()
    .orderBy('identity_organization_id')
    .execute();
  return accounts.map((account) => ({
    id: account.id,
    email: account.email,
    firstName: account.first_name,
    lastName: account.last_name,
    organizations: memberships
      .filter((membership) => membership.account_id === account.id)
      .map((membership) => ({
        identityOrganizationId: membership.identity_organization_id,
        roles: membership.roles,
      })),
  }));
}
