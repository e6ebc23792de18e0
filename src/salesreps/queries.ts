import { sql } from 'kysely';
import type { Executor, Trx } from '../db/database.js';
import type { OrganizationSalesRep, SalesRep } from '../db/schema.js';
import type { SortDirection, SortField } from './schemas.js';

/** The active flag of a user's assignment in an organization, looked up by identity provider user id. */
export function findAssignmentOfUser(db: Executor, organizationId: string, identityProviderUserId: string) {
  return db
    .selectFrom('organization_sales_rep as a')
    .innerJoin('sales_rep as r', 'r.id', 'a.sales_rep_id')
    .select(['a.id', 'a.active'])
    .where('r.identity_provider_user_id', '=', identityProviderUserId)
    .where('a.organization_id', '=', organizationId)
    .executeTakeFirst();
}

/** Every assignment of the rep behind an identity provider user, with its organization, by organization name. */
export function listOrganizationsOfUser(db: Executor, identityProviderUserId: string) {
  return db
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
      'r.first_name',
      'r.last_name',
      'r.email',
      'r.phone_number',
      'a.active',
    ])
    .where('r.identity_provider_user_id', '=', identityProviderUserId)
    .orderBy('o.name')
    .orderBy('o.id')
    .execute();
}

const SORT_COLUMNS = {
  RepNumber: 'rep_number',
  FirstName: 'first_name',
  LastName: 'last_name',
  Email: 'email',
  PhoneNumber: 'phone_number',
  Active: 'active',
} as const satisfies Record<SortField, keyof OrganizationSalesRep>;

export interface PageRequest {
  sortOn: SortField;
  sortDirection: SortDirection;
  limit: number;
  offset: number;
}

/** One page of an organization's assignments; ties are broken by id so that pages never overlap. */
export function listAssignmentsPage(db: Executor, organizationId: string, page: PageRequest) {
  return db
    .selectFrom('organization_sales_rep')
    .select([
      'organization_id',
      'id',
      'sales_rep_id',
      'first_name',
      'last_name',
      'email',
      'phone_number',
      'rep_number',
      'active',
    ])
    .where('organization_id', '=', organizationId)
    .orderBy(SORT_COLUMNS[page.sortOn], page.sortDirection)
    .orderBy('id', page.sortDirection)
    .limit(page.limit)
    .offset(page.offset)
    .execute();
}

export async function countAssignments(db: Executor, organizationId: string): Promise<number> {
  const row = await db
    .selectFrom('organization_sales_rep')
    .select(sql<number>`count(*)::int`.as('count'))
    .where('organization_id', '=', organizationId)
    .executeTakeFirstOrThrow();
  return row.count;
}

/**
 * Inserts the rep unless one with the same email (in any letter case) exists, and returns the stored record.
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

export function insertAssignment(trx: Trx, assignment: Omit<OrganizationSalesRep, 'active' | 'created_at'>) {
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

export function updateActive(trx: Trx, assignmentId: string, active: boolean) {
  return trx.updateTable('organization_sales_rep').set({ active }).where('id', '=', assignmentId).execute();
}

export function deleteAssignment(trx: Trx, assignmentId: string) {
  return trx.deleteFrom('organization_sales_rep').where('id', '=', assignmentId).execute();
}

/** Locks the rep and tells whether any assignment is left; the lock keeps a concurrent PUT from reusing it. */
export async function lockSalesRepAndCountAssignments(trx: Trx, salesRepId: string): Promise<number> {
  await trx.selectFrom('sales_rep').select('id').where('id', '=', salesRepId).forUpdate().execute();
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
