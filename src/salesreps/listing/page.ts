// What both engines of the admin's list take and give: the page asked for, the rows listed, the page answered.
import { sql } from 'kysely';
import type { OrganizationSalesRep } from '../../db/schema.js';
import type { SortDirection } from '../../kernel/sort-direction.js';
import type { SortField } from '../schemas.js';

export interface PageRequest {
  sortOn: SortField;
  sortDirection: SortDirection;
  limit: number;
  offset: number;
}

/** The columns of a listed assignment, as the list reads them. */
const LISTED = [
  'organization_id',
  'id',
  'sales_rep_id',
  'first_name',
  'last_name',
  'email',
  'phone_number',
  'rep_number',
  'active',
] as const;

export type AssignmentListRow = Pick<OrganizationSalesRep, (typeof LISTED)[number]>;

/** One page of assignments with the number of them in all (of the organization, or that match a filter). */
export interface AssignmentPage {
  rows: AssignmentListRow[];
  total: number;
}

/** The listed columns of the assignment table. */
export const LISTED_COLUMN_NAMES = sql.raw(LISTED.join(', '));

/** The listed columns of the assignment `a`. */
export const LISTED_COLUMNS = sql.raw(LISTED.map((column) => `a.${column}`).join(', '));

/**
 * The assignments of a page statement's rows. Each statement left-joins the page to the organization's count row,
 * so an empty page is one row of NULLs; every other row is a whole assignment.
 */
export function listedRows(rows: readonly Partial<AssignmentListRow>[]): AssignmentListRow[] {
  return rows.filter((row) => row.id != null) as AssignmentListRow[];
}
