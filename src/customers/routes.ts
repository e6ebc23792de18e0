import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import { requireAuth } from '../auth/policies.js';
import type { Db } from '../db/database.js';
import { requestChange } from '../events/record.js';
import { compileBulkValidator, compileValidator, type PartValidator } from '../kernel/validation.js';
import {
  canonicalSortParameters,
  paginationHeaders,
  requireDecimalPageParameters,
} from '../routing/page-query.js';
import { errorResponses, jsonResponse, PAGE_HEADERS } from '../routing/route-schema.js';
import {
  CUSTOMER_LIMITS,
  CUSTOMER_SORT_FIELDS,
  Customer,
  CustomerImport,
  CustomerInput,
  CustomerParams,
  DeleteCustomerResponse,
  IMPORT_BODY_LIMIT_BYTES,
  ListCustomersQuery,
  NORTHWIND_INPUT,
  PutCustomersBody,
} from './schemas.js';
import { getCustomer, importCustomers, listCustomers, putCustomer, removeCustomer } from './service.js';

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

/**
 * The PUT body is one customer or an array of them. Validating against the one schema that fits the body's shape
 * names each bad field (`companyName`, or `[41].companyName` in an import) instead of reporting both alternatives;
 * an import is checked item by item, so a thousand bad items cost little and answer a bounded report.
 */
const customerOrImport = (): PartValidator => {
  const one = compileValidator(CustomerInput, 'body');
  const many = compileBulkValidator(CustomerInput, {
    minItems: CustomerImport.minItems ?? 1,
    maxItems: CustomerImport.maxItems ?? CUSTOMER_LIMITS.importItems,
  });
  return (data) => (Array.isArray(data) ? many : one)(data);
};

export function customerRoutes(deps: { db: Db }): FastifyPluginAsyncTypebox {
  const { db } = deps;
  return async (app) => {
    app.put(
      '/api/customers',
      {
        config: { policy: 'Admin' },
        bodyLimit: IMPORT_BODY_LIMIT_BYTES,
        validatorCompiler: customerOrImport,
        schema: {
          tags,
          operationId: 'putCustomers',
          summary: 'Create or replace a customer by customerNumber, or import up to 1,000 at once',
          description:
            `${adminOnly} The body is the whole record: a field left out is cleared. An array is a bulk ` +
            'import applied in one transaction: if any item is invalid nothing is written and `errors` names ' +
            'each bad item and field, e.g. `[41].companyName`. The answer is the stored customer, or the ' +
            'stored customers in the order sent.',
          body: PutCustomersBody,
          response: {
            200: jsonResponse(
              'The stored customer, or the stored customers in the order sent.',
              Type.Union([Customer, Type.Array(Customer, { maxItems: CUSTOMER_LIMITS.importItems })]),
              NORTHWIND,
            ),
            ...errorResponses(400, 401, 403, 413, 415),
          },
        },
      },
      async (request) => {
        const { organization } = requireAuth(request);
        const body = request.body;
        return Array.isArray(body)
          ? importCustomers(db, organization, body, requestChange(request))
          : putCustomer(db, organization, body, requestChange(request));
      },
    );

    app.get(
      '/api/customers',
      {
        config: { policy: 'AdminOrSalesRep' },
        schema: {
          tags,
          operationId: 'listCustomers',
          summary: 'The customers the caller may see, a page at a time',
          description:
            `${adminOrRep} \`repNumber\` filters by rep number; for a SalesRep it can only narrow: another ` +
            "rep's number gives an empty page. X-Total-Count holds the number of matching customers; Link holds " +
            'first, prev, next and last.',
          querystring: ListCustomersQuery,
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
        preValidation: [requireDecimalPageParameters, canonicalSortParameters(CUSTOMER_SORT_FIELDS)],
      },
      async (request, reply) => {
        const page = await listCustomers(db, requireAuth(request), request.query);
        const { search, repNumber } = request.query;
        reply.headers(paginationHeaders(request, { ...page, filters: { search, repNumber } }));
        return page.items;
      },
    );

    app.get(
      '/api/customers/:customerNumber',
      {
        config: { policy: 'AdminOrSalesRep' },
        schema: {
          tags,
          operationId: 'getCustomer',
          summary: 'One customer',
          description: `${adminOrRep} A customer the caller may not see is answered 404, as if it did not exist.`,
          params: CustomerParams,
          response: {
            200: jsonResponse('The customer.', Customer, NORTHWIND),
            ...errorResponses(400, 401, 403, 404),
          },
        },
      },
      async (request) => getCustomer(db, requireAuth(request), request.params.customerNumber),
    );

    app.delete(
      '/api/customers/:customerNumber',
      {
        config: { policy: 'Admin' },
        schema: {
          tags,
          operationId: 'deleteCustomer',
          summary: 'Delete a customer',
          description: adminOnly,
          params: CustomerParams,
          response: {
            200: jsonResponse('The customer is gone.', DeleteCustomerResponse, { success: true }),
            ...errorResponses(400, 401, 403, 404),
          },
        },
      },
      async (request) => {
        await removeCustomer(
          db,
          requireAuth(request).organization,
          request.params.customerNumber,
          requestChange(request),
        );
        return { success: true as const };
      },
    );
  };
}
