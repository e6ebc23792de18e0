// The customer routes: put one or an import, list, get and remove, each under its policy.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requireAuth } from '../auth/policies.js';
import type { Db } from '../db/database.js';
import { requestChange } from '../events/record.js';
import { compileBulkValidator, compileValidator, type PartValidator } from '../kernel/validation.js';
import {
  canonicalSortParameters,
  paginationHeaders,
  requireDecimalPageParameters,
} from '../routing/page-query.js';
import { customerDocs as docs } from './openapi.js';
import {
  CUSTOMER_LIMITS,
  CUSTOMER_SORT_FIELDS,
  CustomerImport,
  CustomerInput,
  CustomerParams,
  IMPORT_BODY_LIMIT_BYTES,
  ListCustomersQuery,
  PutCustomersBody,
} from './schemas.js';
import { getCustomer, importCustomers, listCustomers, putCustomer, removeCustomer } from './service.js';

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

/** The customer routes: put or import, list, get, delete. */
export function customerRoutes(deps: { db: Db }): FastifyPluginAsyncTypebox {
  const { db } = deps;
  return async (app) => {
    app.put(
      '/api/customers',
      {
        config: { policy: 'Admin' },
        bodyLimit: IMPORT_BODY_LIMIT_BYTES,
        validatorCompiler: customerOrImport,
        schema: { ...docs.putCustomers, body: PutCustomersBody },
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
        schema: { ...docs.listCustomers, querystring: ListCustomersQuery },
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
        schema: { ...docs.getCustomer, params: CustomerParams },
      },
      async (request) => getCustomer(db, requireAuth(request), request.params.customerNumber),
    );

    app.delete(
      '/api/customers/:customerNumber',
      {
        config: { policy: 'Admin' },
        schema: { ...docs.deleteCustomer, params: CustomerParams },
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
