// The sign-in's SQL: memberships, accounts, passwords and the organization of each grant.
import { sql } from 'kysely';
import { ROLE_ADMIN } from '../auth/roles.js';
import type { Executor } from '../db/database.js';

/** One organization a person may sign in to, with the roles its tokens carry. */
export interface Membership {
  /** The organization's id in this service (its events are recorded under it). */
  organizationId: string;
  identityOrganizationId: string;
  organizationName: string;
  roles: string[];
}

/**
 * The organizations the person may sign in to: its memberships at the local identity provider, of organizations
 * this service knows, where the person has an active assignment as a rep, or — being no rep of it — the Admin role.
 * The assignment is read, not only the membership: a deactivation or removal takes the membership away through an
 * effect that may not have run yet.
 */
export async function membershipsOf(db: Executor, accountId: string, only?: string): Promise<Membership[]> {
  let query = db
    .selectFrom('idp_membership as m')
    .innerJoin('organization as o', 'o.identity_organization_id', 'm.identity_organization_id')
    .select(['o.id', 'm.identity_organization_id', 'o.name', 'm.roles'])
    .where('m.account_id', '=', accountId)
    .where(({ and, or, not, exists, selectFrom }) => {
      const assignments = () =>
        selectFrom('organization_sales_rep as a')
          .innerJoin('sales_rep as r', 'r.id', 'a.sales_rep_id')
          .select('a.id')
          .whereRef('a.organization_id', '=', 'o.id')
          .where('r.identity_provider_user_id', '=', accountId);
      return or([
        exists(assignments().where('a.active', '=', true)),
        and([not(exists(assignments())), sql<boolean>`${ROLE_ADMIN} = any(m.roles)`]),
      ]);
    })
    .orderBy('o.name')
    .orderBy('m.identity_organization_id')
    // A person is in a bounded number of organizations for the chooser; more are not listed.
    .limit(100);
  if (only !== undefined) query = query.where('m.identity_organization_id', '=', only);
  const rows = await query.execute();
  return rows.map((row) => ({
    organizationId: row.id,
    identityOrganizationId: row.identity_organization_id,
    organizationName: row.name,
    roles: row.roles,
  }));
}

export async function membershipOf(
  db: Executor,
  accountId: string,
  identityOrganizationId: string,
): Promise<Membership | undefined> {
  return (await membershipsOf(db, accountId, identityOrganizationId))[0];
}

/**
 * The organization (by its identity organization id) when it knows the person: a membership at the local identity
 * provider or an assignment as a rep, active or not. A refused sign-in is recorded only there, so that an
 * organization's log never names a person it has nothing to do with.
 */
export async function organizationKnowing(
  db: Executor,
  accountId: string,
  identityOrganizationId: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('organization as o')
    .select('o.id')
    .where('o.identity_organization_id', '=', identityOrganizationId)
    .where(({ or, exists, selectFrom }) =>
      or([
        exists(
          selectFrom('idp_membership as m')
            .select('m.account_id')
            .whereRef('m.identity_organization_id', '=', 'o.identity_organization_id')
            .where('m.account_id', '=', accountId),
        ),
        exists(
          selectFrom('organization_sales_rep as a')
            .innerJoin('sales_rep as r', 'r.id', 'a.sales_rep_id')
            .select('a.id')
            .whereRef('a.organization_id', '=', 'o.id')
            .where('r.identity_provider_user_id', '=', accountId),
        ),
      ]),
    )
    .executeTakeFirst();
  return row?.id;
}

export async function findAccountByEmail(db: Executor, email: string) {
  return (
    db
      .selectFrom('idp_account as a')
      .leftJoin('signin_credential as c', 'c.account_id', 'a.id')
      .select(['a.id', 'a.email', 'c.password_hash'])
      .where(sql<string>`lower(a.email)`, '=', email.toLowerCase())
      // A rep removed and added again has a new account; the old one awaits its deletion effect.
      .orderBy('a.created_at', 'desc')
      .limit(1)
      .executeTakeFirst()
  );
}

export async function setPassword(db: Executor, accountId: string, passwordHash: string): Promise<void> {
  await db
    .insertInto('signin_credential')
    .values({ account_id: accountId, password_hash: passwordHash })
    .onConflict((conflict) =>
      conflict.column('account_id').doUpdateSet({ password_hash: passwordHash, updated_at: new Date() }),
    )
    .execute();
}

export async function recordGrant(
  db: Executor,
  grant: { grantId: string; accountId: string; identityOrganizationId: string; expiresAt: Date },
): Promise<void> {
  await db
    .insertInto('signin_grant')
    .values({
      grant_id: grant.grantId,
      account_id: grant.accountId,
      identity_organization_id: grant.identityOrganizationId,
      expires_at: grant.expiresAt,
    })
    .execute();
}

/** Remembers when the person signed in to the organization (its latest sign-in only). */
export async function recordLastSignIn(
  db: Executor,
  signIn: { accountId: string; identityOrganizationId: string; at: Date },
): Promise<void> {
  await db
    .insertInto('signin_last')
    .values({
      account_id: signIn.accountId,
      identity_organization_id: signIn.identityOrganizationId,
      signed_in_at: signIn.at,
    })
    .onConflict((conflict) =>
      conflict.columns(['account_id', 'identity_organization_id']).doUpdateSet({ signed_in_at: signIn.at }),
    )
    .execute();
}

export async function grantOrganization(db: Executor, grantId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('signin_grant')
    .select('identity_organization_id')
    .where('grant_id', '=', grantId)
    .executeTakeFirst();
  return row?.identity_organization_id;
}

/** The email of an account of the local identity provider, when the account exists. */
export async function accountEmail(db: Executor, accountId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('idp_account')
    .select('email')
    .where('id', '=', accountId)
    .executeTakeFirst();
  return row?.email;
}

/** The redirect URIs of the clients of `salesreps client add`. */
export async function registeredRedirectUris(db: Executor): Promise<string[]> {
  const rows = await db.selectFrom('signin_client').select('redirect_uris').execute();
  return rows.flatMap((row) => row.redirect_uris);
}
