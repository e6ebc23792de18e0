/*
 * The current state of reps and their assignments, as it is checked at the moment of use: by the policies on every
 * request (a deactivated rep is refused at once) and by each effect before it acts (a later change may have undone
 * what it was recorded for).
 */
import { type InferResult, type Kysely, sql } from 'kysely';
import { placeholder, StatementsByShape } from '../db/compiled-statements.js';
import type { Executor } from '../db/database.js';
import type { Tables } from '../db/schema.js';

/** A user's assignment in an organization, by identity provider user id and organization. */
function assignmentOfUserQuery(db: Kysely<Tables>) {
  return db
    .selectFrom('organization_sales_rep as a')
    .innerJoin('sales_rep as r', 'r.id', 'a.sales_rep_id')
    .select(['a.id', 'a.active', 'a.rep_number'])
    .where('r.identity_provider_user_id', '=', placeholder<string>('identityProviderUserId'))
    .where('a.organization_id', '=', placeholder<string>('organizationId'));
}

/** The assignment check of every SalesRep request, compiled once (docs/paging.md, "Compiled once per shape"). */
const assignmentOfUser = new StatementsByShape<
  Tables,
  'one',
  InferResult<ReturnType<typeof assignmentOfUserQuery>>[number],
  { organizationId: string; identityProviderUserId: string }
>(
  (shape) => shape,
  (_, db) => assignmentOfUserQuery(db),
);

/** A user's assignment in an organization (its active flag and rep number), by identity provider user id. */
export async function findAssignmentOfUser(
  db: Executor,
  organizationId: string,
  identityProviderUserId: string,
) {
  const { rows } = await db.executeQuery(
    assignmentOfUser.get(db, 'one').bind({ organizationId, identityProviderUserId }),
  );
  return rows[0];
}

/** Whether any rep holds the identity provider user id, in any organization (a rep re-added may hold it again). */
export async function isSalesRepUser(db: Executor, identityProviderUserId: string): Promise<boolean> {
  const rep = await db
    .selectFrom('sales_rep')
    .select('id')
    .where('identity_provider_user_id', '=', identityProviderUserId)
    .executeTakeFirst();
  return rep !== undefined;
}

/** Whether the rep's assignment in the organization is active, inactive, or gone — what an effect checks before it acts. */
export async function assignmentState(
  db: Executor,
  organizationId: string,
  salesRepId: string,
): Promise<'active' | 'inactive' | 'absent'> {
  const row = await db
    .selectFrom('organization_sales_rep')
    .select('active')
    .where('organization_id', '=', organizationId)
    .where('sales_rep_id', '=', salesRepId)
    .executeTakeFirst();
  if (!row) return 'absent';
  return row.active ? 'active' : 'inactive';
}

/**
 * Whether the identity provider user should be a member of the organization: an active assignment of any rep that
 * holds the user says so (with Kinde, a rep removed and added again is a new rep with the same user).
 */
export async function membershipWanted(
  db: Executor,
  organizationId: string,
  identityProviderUserId: string,
): Promise<boolean> {
  const row = await db
    .selectFrom('organization_sales_rep as a')
    .innerJoin('sales_rep as r', 'r.id', 'a.sales_rep_id')
    .select('a.sales_rep_id')
    .where('a.organization_id', '=', organizationId)
    .where('r.identity_provider_user_id', '=', identityProviderUserId)
    .where('a.active', '=', true)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * isSalesRepUser and membershipWanted in one read, for the provisioning effect: whether any rep has the user, and
 * whether one of them is active in the organization.
 */
export async function provisioningWanted(
  db: Executor,
  organizationId: string,
  identityProviderUserId: string,
): Promise<{ user: boolean; membership: boolean }> {
  const row = await db
    .selectFrom('sales_rep as r')
    .leftJoin('organization_sales_rep as a', (join) =>
      join
        .onRef('a.sales_rep_id', '=', 'r.id')
        .on('a.organization_id', '=', organizationId)
        .on('a.active', '=', true),
    )
    .select([
      sql<number>`count(*)::int`.as('reps'),
      sql<number>`count(a.sales_rep_id)::int`.as('active_here'),
    ])
    .where('r.identity_provider_user_id', '=', identityProviderUserId)
    .executeTakeFirstOrThrow();
  return { user: row.reps > 0, membership: row.active_here > 0 };
}

export async function salesRepExists(db: Executor, salesRepId: string): Promise<boolean> {
  const row = await db.selectFrom('sales_rep').select('id').where('id', '=', salesRepId).executeTakeFirst();
  return row !== undefined;
}
