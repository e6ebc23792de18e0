// The customers' SQL: pages, counts, upserts, deletes and the move of a rep number's customers.
import { type ExpressionBuilder, sql } from 'kysely';
import type { Executor, Trx } from '../db/database.js';
import type { Customer, NewCustomer, Tables } from '../db/schema.js';
import { mayCrossFields, searchMode, searchValue } from '../kernel/search.js';
import type { SortDirection } from '../kernel/sort-direction.js';
import type { CustomerSortField } from './schemas.js';

/** Which customers of an organization a list reads: all of them, or one rep number's; optionally a search. */
export interface CustomerFilter {
  /** Only customers carrying this rep number. */
  repNumber?: string | undefined;
  /** A text the customer number or the company name holds, in any letter case, accents or not. */
  search?: string | undefined;
}

export interface CustomerPageRequest {
  sortOn: CustomerSortField;
  sortDirection: SortDirection;
  limit: number;
  offset: number;
}

/** The customer's search keys in one text, as the trigram index of migration 0021 has it. */
const SEARCH_KEYS = sql<string>`(company_name_search || ' ' || lower(customer_number))`;

const SORT_COLUMNS = {
  CustomerNumber: 'customer_number',
  CompanyName: 'company_name',
  CompanyEmail: 'company_email',
  RepNumber: 'rep_number',
} as const satisfies Record<CustomerSortField, keyof Customer>;

function matching(organizationId: string, filter: CustomerFilter) {
  return (eb: ExpressionBuilder<Tables, 'customer'>) => {
    const conditions = [eb('organization_id', '=', organizationId)];
    if (filter.repNumber !== undefined) conditions.push(eb('rep_number', '=', filter.repNumber));
    if (filter.search !== undefined) {
      const mode = searchMode(filter.search);
      const value = searchValue(filter.search);
      const keys = [sql<string>`lower(customer_number)`, sql<string>`company_name_search`];
      if (mode === 'prefix') {
        // starts_with on "C"-collated keys is served by the (organization_id, key) indexes.
        conditions.push(eb.or(keys.map((key) => eb.fn<boolean>('starts_with', [key, eb.val(value)]))));
      } else {
        // Both keys at once are what the trigram index of migration 0021 answers within the organization; each
        // field is compared too only where the pattern may span the two.
        if (mode === 'trigrams') conditions.push(eb(SEARCH_KEYS, 'like', value));
        if (mode !== 'trigrams' || mayCrossFields(value)) {
          conditions.push(eb.or(keys.map((key) => eb(key, 'like', value))));
        }
      }
    }
    return eb.and(conditions);
  };
}

/**
 * One page of an organization's customers, as a query not yet run (so its plan can be examined). Ties are broken
 * by id, so pages never overlap; the customer number is unique in the organization and needs no tie-breaker.
 */
export function selectCustomersPage(
  db: Executor,
  organizationId: string,
  filter: CustomerFilter,
  page: CustomerPageRequest,
) {
  let query = db
    .selectFrom('customer')
    .selectAll()
    .where(matching(organizationId, filter))
    .orderBy(SORT_COLUMNS[page.sortOn], page.sortDirection);
  if (page.sortOn !== 'CustomerNumber') query = query.orderBy('id', page.sortDirection);
  return query.limit(page.limit).offset(page.offset);
}

export async function countCustomers(
  db: Executor,
  organizationId: string,
  filter: CustomerFilter,
): Promise<number> {
  const row = await db
    .selectFrom('customer')
    .select(sql<number>`count(*)::int`.as('count'))
    .where(matching(organizationId, filter))
    .executeTakeFirstOrThrow();
  return row.count;
}

/** A customer of the organization by its number; with a rep number, only if it carries that number. */
export function findCustomer(
  db: Executor,
  organizationId: string,
  customerNumber: string,
  repNumber?: string,
): Promise<Customer | undefined> {
  let query = db
    .selectFrom('customer')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .where('customer_number', '=', customerNumber);
  if (repNumber !== undefined) query = query.where('rep_number', '=', repNumber);
  return query.executeTakeFirst();
}

/** The organization's customers of these numbers, locked until the transaction ends, in customer-number order. */
export function lockCustomers(
  trx: Trx,
  organizationId: string,
  customerNumbers: string[],
): Promise<Customer[]> {
  return trx
    .selectFrom('customer')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .where('customer_number', 'in', customerNumbers)
    .orderBy('customer_number')
    .forUpdate()
    .execute();
}

/**
 * Creates or replaces customers by (organization, customer number) in one statement, so a batch is written whole
 * or not at all. The rows must have distinct customer numbers (a statement cannot update a row twice).
 */
export function upsertCustomers(db: Executor, rows: NewCustomer[]): Promise<Customer[]> {
  return db
    .insertInto('customer')
    .values(rows)
    .onConflict((conflict) =>
      conflict.columns(['organization_id', 'customer_number']).doUpdateSet((eb) => ({
        company_name: eb.ref('excluded.company_name'),
        company_name_search: eb.ref('excluded.company_name_search'),
        company_email: eb.ref('excluded.company_email'),
        company_phone: eb.ref('excluded.company_phone'),
        pricing: eb.ref('excluded.pricing'),
        terms: eb.ref('excluded.terms'),
        active: eb.ref('excluded.active'),
        rep_number: eb.ref('excluded.rep_number'),
        external_id: eb.ref('excluded.external_id'),
        addresses: eb.ref('excluded.addresses'),
        contacts: eb.ref('excluded.contacts'),
        customer_attributes: eb.ref('excluded.customer_attributes'),
        updated_at: sql<Date>`now()`,
      })),
    )
    .returningAll()
    .execute();
}

export async function deleteCustomer(db: Executor, organizationId: string, customerNumber: string) {
  const result = await db
    .deleteFrom('customer')
    .where('organization_id', '=', organizationId)
    .where('customer_number', '=', customerNumber)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Moves every customer of the organization from one rep number to another; returns how many moved. */
export async function moveCustomersOfRepNumber(
  trx: Trx,
  organizationId: string,
  fromRepNumber: string,
  toRepNumber: string,
): Promise<number> {
  const result = await trx
    .updateTable('customer')
    .set({ rep_number: toRepNumber, updated_at: sql<Date>`now()` })
    .where('organization_id', '=', organizationId)
    .where('rep_number', '=', fromRepNumber)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
