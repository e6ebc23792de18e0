// The reps' SQL outside the list: assignments and the people behind them, found, changed and deleted.
import { type InferResult, type Kysely, sql } from 'kysely';
import { placeholder, StatementsByShape } from '../db/compiled-statements.js';
import type { Executor, Trx } from '../db/database.js';
import type { OrganizationSalesRep, SalesRep, Tables } from '../db/schema.js';

/** The query of listOrganizationsOfUser, with placeholders. */
function organizationsOfUserQuery(db: Kysely<Tables>) {
  return (
    db
      .selectFrom('sales_rep as r')
      .innerJoin('organization_sales_rep as a', 'a.sales_rep_id', 'r.id')
      .innerJoin('organization as o', 'o.id', 'a.organization_id')
      .select([
        'o.id as organization_id',
        'o.name as organization_name',
        'o.identity_organization_id',
        'r.identity_provider_user_id',
        'a.id as assignment_id',
        'r.id as sales_rep_id',
        'a.rep_number',
        // Each organization's own words for the rep, never another's.
        'a.first_name',
        'a.last_name',
        'a.email',
        'a.phone_number',
        'a.active',
      ])
      .where('r.identity_provider_user_id', '=', placeholder<string>('identityProviderUserId'))
      // Byte order, like the admin's list, whatever the server's locale.
      .orderBy(sql`o.name collate "C"`)
      .orderBy('o.id')
  );
}

/** Compiled once: every rep's request of its organizations runs it. */
const organizationsOfUser = new StatementsByShape<
  Tables,
  'one',
  InferResult<ReturnType<typeof organizationsOfUserQuery>>[number],
  { identityProviderUserId: string }
>(
  (shape) => shape,
  (_, db) => organizationsOfUserQuery(db),
);

/** Every assignment of the rep behind an identity provider user, with its organization, by organization name. */
export async function listOrganizationsOfUser(db: Executor, identityProviderUserId: string) {
  const { rows } = await db.executeQuery(organizationsOfUser.get(db, 'one').bind({ identityProviderUserId }));
  return rows;
}

/**
 * Inserts the person unless one with the same email (in any letter case) exists, and returns the stored record.
 * A rep found is locked against deletion until the transaction ends, so that the assignment about to be made
 * cannot lose its rep to a concurrent delete of the rep's last organization.
 */
export async function insertOrFindSalesRep(
  trx: Trx,
  rep: SalesRep,
): Promise<{ rep: SalesRep; created: boolean }> {
  for (;;) {
    const inserted = await trx
      .insertInto('sales_rep')
      .values(rep)
      .onConflict((conflict) => conflict.expression(sql`lower(email)`).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted) return { rep: inserted, created: true };
    const existing = await trx
      .selectFrom('sales_rep')
      .selectAll()
      .where(sql<string>`lower(email)`, '=', rep.email.toLowerCase())
      .forKeyShare()
      .executeTakeFirst();
    // Missing only when deleted between the two statements: try the insert again.
    if (existing) return { rep: existing, created: false };
  }
}

export function insertAssignment(
  trx: Trx,
  assignment: Omit<
    OrganizationSalesRep,
    'active' | 'created_at' | 'updated_at' | 'external_id' | 'invitation_pending'
  > & {
    external_id?: string | null;
    active?: boolean;
    invitation_pending?: boolean;
  },
) {
  return trx.insertInto('organization_sales_rep').values(assignment).returningAll().executeTakeFirstOrThrow();
}

/** An assignment of this organization (never another's), with the rep's identity, locked for update. */
export function findAssignmentForUpdate(trx: Trx, organizationId: string, assignmentId: string) {
  return trx
    .selectFrom('organization_sales_rep as a')
    .innerJoin('sales_rep as r', 'r.id', 'a.sales_rep_id')
    .selectAll('a')
    .select('r.identity_provider_user_id')
    .where('a.id', '=', assignmentId)
    .where('a.organization_id', '=', organizationId)
    .forUpdate('a')
    .executeTakeFirst();
}

export function updateRepNumber(trx: Trx, assignmentId: string, repNumber: string) {
  return trx
    .updateTable('organization_sales_rep')
    .set({ rep_number: repNumber })
    .where('id', '=', assignmentId)
    .execute();
}

/** Writes what the organization says of the person: names (with their search keys), phone, directory id. */
export function updateDetails(
  trx: Trx,
  assignmentId: string,
  details: Pick<
    OrganizationSalesRep,
    'first_name' | 'last_name' | 'first_name_search' | 'last_name_search' | 'phone_number' | 'external_id'
  >,
) {
  return trx.updateTable('organization_sales_rep').set(details).where('id', '=', assignmentId).execute();
}

/** Activation mails the rep an invitation again, so a rep whose invitation was held back has it from then on. */
export function updateActive(trx: Trx, assignmentId: string, active: boolean) {
  return trx
    .updateTable('organization_sales_rep')
    .set(active ? { active, invitation_pending: false } : { active })
    .where('id', '=', assignmentId)
    .execute();
}

/**
 * The organization's assignments that hold one of these emails (by the person's email, in any letter case, as the
 * assignment's unique key does) or one of these rep numbers.
 */
export function findAssignmentsTaking(
  db: Executor,
  organizationId: string,
  emailKeys: readonly string[],
  repNumbers: readonly string[],
) {
  return db
    .selectFrom('organization_sales_rep as a')
    .innerJoin('sales_rep as r', 'r.id', 'a.sales_rep_id')
    .select([sql<string>`lower(r.email)`.as('email_key'), 'a.rep_number'])
    .where('a.organization_id', '=', organizationId)
    .where((eb) =>
      eb.or([eb(sql<string>`lower(r.email)`, 'in', emailKeys), eb('a.rep_number', 'in', repNumbers)]),
    )
    .execute();
}

/** The active reps whose invitation was held back, oldest first, locked; rows another sending holds are skipped. */
export function lockPendingInvitations(trx: Trx, organizationId: string, limit: number) {
  return trx
    .selectFrom('organization_sales_rep as a')
    .selectAll('a')
    .where('a.organization_id', '=', organizationId)
    .where('a.invitation_pending', '=', true)
    .where('a.active', '=', true)
    .orderBy('a.created_at')
    .orderBy('a.id')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
}

export function clearInvitationPending(trx: Trx, assignmentIds: readonly string[]) {
  return trx
    .updateTable('organization_sales_rep')
    .set({ invitation_pending: false })
    .where('id', 'in', assignmentIds)
    .execute();
}

export async function countPendingInvitations(db: Executor, organizationId: string): Promise<number> {
  const row = await db
    .selectFrom('organization_sales_rep')
    .select(sql<number>`count(*)::int`.as('count'))
    .where('organization_id', '=', organizationId)
    .where('invitation_pending', '=', true)
    .where('active', '=', true)
    .executeTakeFirstOrThrow();
  return row.count;
}

export function deleteAssignment(trx: Trx, assignmentId: string) {
  return trx.deleteFrom('organization_sales_rep').where('id', '=', assignmentId).execute();
}

/**
 * Locks the rep holding an assignment of this organization, and returns its id. A removal takes this lock before
 * anything else, in the same order as a PUT that reuses the rep (which holds it FOR KEY SHARE), so the two wait
 * for each other instead of deadlocking.
 */
export async function lockSalesRepOfAssignment(
  trx: Trx,
  organizationId: string,
  assignmentId: string,
): Promise<string | undefined> {
  const row = await trx
    .selectFrom('sales_rep as r')
    .innerJoin('organization_sales_rep as a', 'a.sales_rep_id', 'r.id')
    .select('r.id')
    .where('a.id', '=', assignmentId)
    .where('a.organization_id', '=', organizationId)
    .forUpdate('r')
    .executeTakeFirst();
  return row?.id;
}

export async function countAssignmentsOfSalesRep(trx: Trx, salesRepId: string): Promise<number> {
  const row = await trx
    .selectFrom('organization_sales_rep')
    .select(sql<number>`count(*)::int`.as('count'))
    .where('sales_rep_id', '=', salesRepId)
    .executeTakeFirstOrThrow();
  return row.count;
}

export function deleteSalesRep(trx: Trx, salesRepId: string) {
  return trx.deleteFrom('sales_rep').where('id', '=', salesRepId).execute();
}

/** The mails that carry a rep's invitation link; while one is pending, its link is on its way. */
const INVITATION_MAILS = ['email.welcome', 'email.reinvitation'];

/**
 * What the sign-in knows of the reps of one page (assignment ids of this organization): when each was added,
 * whether it has a password, until when its newest unused link works, its last sign-in to this organization and
 * whether an invitation mail is still to be sent. One statement for the page; each part is read by its own key
 * (the account, the account and organization, the rep's pending effects), never by scanning other tenants' rows.
 */
export function readSignInFacts(db: Executor, organizationId: string, assignmentIds: readonly string[]) {
  return db
    .selectFrom('organization_sales_rep as a')
    .innerJoin('sales_rep as r', 'r.id', 'a.sales_rep_id')
    .innerJoin('organization as o', 'o.id', 'a.organization_id')
    .select(['a.id', 'a.created_at', 'a.active'])
    .select(({ exists, selectFrom }) => [
      exists(
        selectFrom('signin_credential as c')
          .select('c.account_id')
          .whereRef('c.account_id', '=', 'r.identity_provider_user_id'),
      ).as('has_password'),
      selectFrom('signin_link as l')
        .select((link) => link.fn.max('l.expires_at').as('expires_at'))
        .whereRef('l.account_id', '=', 'r.identity_provider_user_id')
        .where('l.used_at', 'is', null)
        .as('link_expires_at'),
      selectFrom('signin_last as s')
        .select('s.signed_in_at')
        .whereRef('s.account_id', '=', 'r.identity_provider_user_id')
        .whereRef('s.identity_organization_id', '=', 'o.identity_organization_id')
        .as('last_signed_in_at'),
      exists(
        selectFrom('effect as e')
          .select('e.id')
          .whereRef('e.sales_rep_id', '=', 'a.sales_rep_id')
          .whereRef('e.organization_id', '=', 'a.organization_id')
          .where('e.status', '=', 'pending')
          .where('e.kind', 'in', INVITATION_MAILS),
      ).as('invitation_pending'),
    ])
    .where('a.organization_id', '=', organizationId)
    .where('a.id', 'in', assignmentIds)
    .execute();
}
