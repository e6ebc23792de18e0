// The OpenAPI documentation of the customer routes: each operation's summary, description, responses and examples.
import { type Static, Type } from '@sinclair/typebox';
import { errorResponses, jsonResponse, PAGE_HEADERS } from '../routing/route-schema.js';
import { CUSTOMER_LIMITS, Customer, DeleteCustomerResponse, NORTHWIND_INPUT } from './schemas.js';

const tags = ['Customers'];

const NORTHWIND: Static<typeof Customer> = {
  organizationId: '34ku8ni238sdin0n23cdm6',
  ...NORTHWIND_INPUT,
  createdAt: '2026-11-02T09:15:00.000Z',
  updatedAt: '2026-11-20T16:40:12.000Z',
};
const adminOnly = "Policy: Admin of the token's organization.";
const adminOrRep =
  "Policy: Admin of the token's organization (all of its customers) or an active SalesRep of it (only the " +
  'customers whose repNumber is its own rep number there; it holds on every request, so a rep number change ' +
  'or a deactivation takes effect at once).';

export const customerDocs = {
  putCustomers: {
    tags,
    operationId: 'putCustomers',
    summary: 'Create or replace a customer by customerNumber, or import up to 1,000 at once',
    description:
      `${adminOnly} The body is the whole record: a field left out is cleared. An array is a bulk ` +
      'import applied in one transaction: if any item is invalid nothing is written and `errors` names ' +
      'each bad item and field, e.g. `[41].companyName`. The answer is the stored customer, or the ' +
      'stored customers in the order sent.',
    response: {
      200: jsonResponse(
        'The stored customer, or the stored customers in the order sent.',
        Type.Union([Customer, Type.Array(Customer, { maxItems: CUSTOMER_LIMITS.importItems })]),
        NORTHWIND,
      ),
      ...errorResponses(400, 401, 403, 413, 415),
    },
  },

  listCustomers: {
    tags,
    operationId: 'listCustomers',
    summary: 'The customers the caller may see, a page at a time',
    description:
      `${adminOrRep} \`repNumber\` filters by rep number; for a SalesRep it can only narrow: another ` +
      "rep's number gives an empty page. X-Total-Count holds the number of matching customers; Link holds " +
      'first, prev, next and last.',
    response: {
      200: jsonResponse(
        'One page of customers; X-Total-Count and Link describe the whole list.',
        Type.Array(Customer, { maxItems: CUSTOMER_LIMITS.pageSize }),
        [NORTHWIND],
        PAGE_HEADERS,
      ),
      ...errorResponses(400, 401, 403),
    },
  },

  getCustomer: {
    tags,
    operationId: 'getCustomer',
    summary: 'One customer',
    description: `${adminOrRep} A customer the caller may not see is answered 404, as if it did not exist.`,
    response: {
      200: jsonResponse('The customer.', Customer, NORTHWIND),
      ...errorResponses(400, 401, 403, 404),
    },
  },

  deleteCustomer: {
    tags,
    operationId: 'deleteCustomer',
    summary: 'Delete a customer',
    description: adminOnly,
    response: {
      200: jsonResponse('The customer is gone.', DeleteCustomerResponse, { success: true }),
      ...errorResponses(400, 401, 403, 404),
    },
  },
};
