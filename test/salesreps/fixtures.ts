import type { Db } from '../../src/db/database.js';

export interface TableCounts {
  salesReps: number;
  assignments: number;
  effects: number;
}

/** Row counts of the tables a change writes, to prove a refused request wrote nothing. */
export async function tableCounts(db: Db): Promise<TableCounts> {
  const count = async (table: 'sales_rep' | 'organization_sales_rep' | 'effect') => {
    const row = await db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .executeTakeFirstOrThrow();
    return Number(row.count);
  };
  return {
    salesReps: await count('sales_rep'),
    assignments: await count('organization_sales_rep'),
    effects: await count('effect'),
  };
}

/** The kinds of the effects recorded for a rep, oldest first. */
export async function effectKinds(db: Db, salesRepId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('effect')
    .select('kind')
    .where('sales_rep_id', '=', salesRepId)
    .orderBy('id')
    .execute();
  return rows.map((row) => row.kind);
}

export const SORT_FIELDS = ['RepNumber', 'FirstName', 'LastName', 'Email', 'PhoneNumber', 'Active'] as const;
export type SortField = (typeof SORT_FIELDS)[number];

/** The sort keys of a listed rep. */
export interface SortableRep {
  organizationSalesRepId: string;
  firstName: string;
  lastName: string;
  email: string;
  phoneNumber: string | null;
  repNumber: string;
  active: boolean;
}

/** Byte order (the "C" collation): uppercase before lowercase, non-ASCII after ASCII. */
function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The contract's ascending order, computed here: byte order, NULL phone numbers last, false before true, then the id. */
export function ascending(field: SortField, a: SortableRep, b: SortableRep): number {
  const byField = (() => {
    switch (field) {
      case 'RepNumber':
        return byteCompare(a.repNumber, b.repNumber);
      case 'FirstName':
        return byteCompare(a.firstName, b.firstName);
      case 'LastName':
        return byteCompare(a.lastName, b.lastName);
      case 'Email':
        return byteCompare(a.email, b.email);
      case 'PhoneNumber':
        if (a.phoneNumber === null || b.phoneNumber === null) {
          return Number(a.phoneNumber === null) - Number(b.phoneNumber === null);
        }
        return byteCompare(a.phoneNumber, b.phoneNumber);
      case 'Active':
        return Number(a.active) - Number(b.active);
    }
  })();
  return byField || byteCompare(a.organizationSalesRepId, b.organizationSalesRepId);
}
