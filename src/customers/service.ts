// The customers' use-cases: put, import, list, get, remove, within the caller's scope and with their events.
import type { RequestAuth } from '../auth/policies.js';
import type { Db, Trx } from '../db/database.js';
import type { Customer as CustomerRow, NewCustomer, Organization } from '../db/schema.js';
import {
  type ChangeContext,
  changesBetween,
  created,
  type NewEvent,
  recordEvents,
  removed,
} from '../events/record.js';
import { newId } from '../kernel/ids.js';
import { badRequest, type FieldError, notFound } from '../kernel/problem.js';
import { searchKey } from '../kernel/search.js';
import type { SortDirection } from '../kernel/sort-direction.js';
import { readPageQuery } from '../routing/page-query.js';
import {
  type CustomerFilter,
  countCustomers,
  deleteCustomer,
  findCustomer,
  lockCustomers,
  moveCustomersOfRepNumber,
  selectCustomersPage,
  upsertCustomers,
} from './queries.js';
import {
  CUSTOMER_SORT_FIELDS,
  type Customer,
  type CustomerInput,
  type CustomerSortField,
  type ListCustomersQuery,
} from './schemas.js';

/**
 * The customers a caller may see: an Admin all of the organization's; a SalesRep only those carrying its active
 * assignment's rep number (the policy looked the assignment up on this very request).
 */
function repNumberScope(auth: RequestAuth): string | undefined {
  return auth.salesRep?.repNumber;
}

function toCustomer(row: CustomerRow): Customer {
  return {
    organizationId: row.organization_id,
    customerNumber: row.customer_number,
    companyName: row.company_name,
    companyEmail: row.company_email,
    companyPhone: row.company_phone,
    pricing: row.pricing,
    terms: row.terms,
    active: row.active,
    repNumber: row.rep_number,
    externalId: row.external_id,
    addresses: row.addresses,
    contacts: row.contacts,
    customerAttributes: row.customer_attributes,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function toRow(organizationId: string, input: CustomerInput): NewCustomer {
  const companyName = input.companyName.trim();
  return {
    id: newId(),
    organization_id: organizationId,
    customer_number: input.customerNumber,
    company_name: companyName,
    company_name_search: searchKey(companyName),
    company_email: input.companyEmail ?? null,
    company_phone: input.companyPhone?.trim() ?? null,
    pricing: input.pricing ?? null,
    terms: input.terms?.trim() ?? null,
    active: input.active ?? true,
    rep_number: input.repNumber ?? null,
    external_id: input.externalId ?? null,
    addresses: JSON.stringify(input.addresses ?? []),
    contacts: JSON.stringify(input.contacts ?? []),
    customer_attributes: JSON.stringify(input.customerAttributes ?? {}),
  };
}

/** What an event says of a customer: its fields as the API shows them, without the bookkeeping. */
function audited(customer: Customer): Record<string, unknown> {
  const {
    organizationId: _organization,
    customerNumber: _number,
    createdAt: _created,
    updatedAt: _updated,
    ...rest
  } = customer;
  return rest;
}

/**
 * Writes customers (distinct numbers, in customer-number order) in one transaction with one event each: created,
 * or updated with the fields that changed (a customer written as it was records nothing). An import's events name
 * it as their second target (the first stays the customer, which orders webhook deliveries), and one
 * `customer.imported` event sums it up, so that the audit log can show an import as one entry.
 */
function upsertRecorded(
  db: Db,
  organization: Organization,
  rows: NewCustomer[],
  change: ChangeContext,
  asImport = false,
): Promise<CustomerRow[]> {
  return db.transaction().execute(async (trx) => {
    const numbers = rows.map((row) => row.customer_number);
    const before = new Map(
      (await lockCustomers(trx, organization.id, numbers)).map((row) => [row.customer_number, row]),
    );
    const stored = await upsertCustomers(trx, rows);
    const events: NewEvent[] = [];
    const importTarget = asImport ? [{ type: 'customer_import' as const, id: newId() }] : [];
    for (const row of stored) {
      const earlier = before.get(row.customer_number);
      const after = audited(toCustomer(row));
      const changes = earlier ? changesBetween(audited(toCustomer(earlier)), after) : created(after);
      if (Object.keys(changes).length === 0) continue;
      events.push({
        action: earlier ? 'customer.updated' : 'customer.created',
        targets: [{ type: 'customer', id: row.customer_number }, ...importTarget],
        changes,
      });
    }
    if (asImport) {
      const created = events.filter((event) => event.action === 'customer.created').length;
      events.push({
        action: 'customer.imported',
        targets: importTarget,
        changes: {
          customers: { from: null, to: stored.length },
          created: { from: null, to: created },
          updated: { from: null, to: events.length - created },
        },
      });
    }
    await recordEvents(trx, change, organization.id, events);
    return stored;
  });
}

/** Creates or replaces one customer by its number. */
export async function putCustomer(
  db: Db,
  organization: Organization,
  input: CustomerInput,
  change: ChangeContext,
): Promise<Customer> {
  const [row] = await upsertRecorded(db, organization, [toRow(organization.id, input)], change);
  if (!row) throw new Error('The upsert returned no row');
  return toCustomer(row);
}

/**
 * Creates or replaces many customers at once, all or none: a customer number given twice is refused (naming both
 * items) before anything is written, and the rest is one statement. The answer lists them in the order sent.
 */
export async function importCustomers(
  db: Db,
  organization: Organization,
  inputs: CustomerInput[],
  change: ChangeContext,
): Promise<Customer[]> {
  const firstIndex = new Map<string, number>();
  const errors: FieldError[] = [];
  inputs.forEach((input, index) => {
    const earlier = firstIndex.get(input.customerNumber);
    if (earlier === undefined) firstIndex.set(input.customerNumber, index);
    else
      errors.push({
        field: `[${index}].customerNumber`,
        message: `repeats the customer number of [${earlier}]`,
      });
  });
  if (errors.length > 0) {
    throw badRequest(`The import is not valid: ${errors.map((error) => error.field).join(', ')}.`, errors);
  }
  // Written in customer-number order, so concurrent imports that share customers lock them in the same order and
  // cannot deadlock.
  const ordered = inputs
    .map((input) => toRow(organization.id, input))
    .sort((a, b) => (a.customer_number < b.customer_number ? -1 : 1));
  const rows = await upsertRecorded(db, organization, ordered, change, true);
  const byNumber = new Map(rows.map((row) => [row.customer_number, row]));
  return inputs.map((input) => {
    const row = byNumber.get(input.customerNumber);
    if (!row) throw new Error(`The upsert returned no row for customer ${input.customerNumber}`);
    return toCustomer(row);
  });
}

export interface CustomerPage {
  items: Customer[];
  total: number;
  pageNumber: number;
  pageSize: number;
  sortOn: CustomerSortField;
  sortDirection: SortDirection;
}

/**
 * A page of the customers the caller may see. A SalesRep's `repNumber` filter narrows its own customers and never
 * widens them: another rep's number matches nothing.
 */
export async function listCustomers(
  db: Db,
  auth: RequestAuth,
  query: ListCustomersQuery,
): Promise<CustomerPage> {
  const { pageNumber, pageSize, sortOn, sortDirection } = readPageQuery(query, CUSTOMER_SORT_FIELDS, {
    sortOn: 'CustomerNumber',
    pageSize: 25,
  });
  const scope = repNumberScope(auth);
  const empty = { items: [], total: 0, pageNumber, pageSize, sortOn, sortDirection };
  if (scope !== undefined && query.repNumber !== undefined && query.repNumber !== scope) return empty;

  const filter: CustomerFilter = {
    repNumber: scope ?? query.repNumber,
    search: query.search,
  };
  const organizationId = auth.organization.id;
  const [rows, total] = await Promise.all([
    selectCustomersPage(db, organizationId, filter, {
      sortOn,
      sortDirection,
      limit: pageSize,
      offset: (pageNumber - 1) * pageSize,
    }).execute(),
    countCustomers(db, organizationId, filter),
  ]);
  return { items: rows.map(toCustomer), total, pageNumber, pageSize, sortOn, sortDirection };
}

function customerNotFound() {
  return notFound('No customer with that customerNumber in this organization.');
}

/** One customer; a SalesRep asking for a customer that is not its own is told it does not exist. */
export async function getCustomer(db: Db, auth: RequestAuth, customerNumber: string): Promise<Customer> {
  const row = await findCustomer(db, auth.organization.id, customerNumber, repNumberScope(auth));
  if (!row) throw customerNotFound();
  return toCustomer(row);
}

export async function removeCustomer(
  db: Db,
  organization: Organization,
  customerNumber: string,
  change: ChangeContext,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const [existing] = await lockCustomers(trx, organization.id, [customerNumber]);
    if (!existing || (await deleteCustomer(trx, organization.id, customerNumber)) === 0)
      throw customerNotFound();
    await recordEvents(trx, change, organization.id, [
      {
        action: 'customer.deleted',
        targets: [{ type: 'customer', id: customerNumber }],
        changes: removed(audited(toCustomer(existing))),
      },
    ]);
  });
}

/**
 * Moves the organization's customers from one rep number to another, in the caller's transaction: a rep whose number
 * changes with `reassignCustomers` keeps serving its customers. Answers how many moved.
 */
export function reassignCustomers(
  trx: Trx,
  organizationId: string,
  fromRepNumber: string,
  toRepNumber: string,
): Promise<number> {
  return moveCustomersOfRepNumber(trx, organizationId, fromRepNumber, toRepNumber);
}
