import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requireAuth } from '../auth/policies.js';
import type { Db } from '../db/database.js';
import { requestChange } from '../events/record.js';
import type { IdentityDirectory } from '../identity/port.js';
import { badRequest } from '../kernel/problem.js';
import {
  canonicalSortParameters,
  paginationHeaders,
  requireDecimalPageParameters,
} from '../routing/page-query.js';
import { errorResponses, jsonResponse, PAGE_HEADERS, sendEmpty } from '../routing/route-schema.js';
import {
  AddSalesRepBody,
  AddSalesRepResponse,
  AssignmentBody,
  ChangeRepNumberBody,
  ChangeRepNumberResponse,
  DeleteBody,
  DeleteQuery,
  LIMITS,
  ListSalesRepsQuery,
  MyOrganizationsQuery,
  MyOrganizationsResponse,
  OrganizationSalesRep,
  SORT_FIELDS,
  SuccessResponse,
} from './schemas.js';
import {
  addSalesRep,
  changeRepNumber,
  listMyOrganizations,
  listSalesReps,
  removeSalesRep,
  setActive,
} from './service.js';

const tags = ['Sales reps'];

// The published API's own examples (emails on example.com).
const JOHN = {
  organizationId: '34ku8ni238sdin0n23cdm6',
  organizationSalesRepId: 'OJ76hgt87hgas4ffG5',
  salesRepId: 'KJ76hgt87hgas4ffG3',
  firstName: 'John',
  lastName: 'Doe',
  email: 'john.doe@example.com',
  phoneNumber: '555-555-5555',
  repNumber: '1234',
  active: true,
};
const MARY = {
  ...JOHN,
  organizationSalesRepId: 'OJ76hgt87hgas4ffG6',
  salesRepId: 'AJ76hgt87hgas4ffG9',
  firstName: 'Mary',
  email: 'mary.doe@example.com',
  repNumber: 'MRY',
  active: false,
};
const adminOnly = "Policy: Admin of the token's organization.";

export function salesRepRoutes(deps: { db: Db; identity: IdentityDirectory }): FastifyPluginAsyncTypebox {
  const { db, identity } = deps;
  return async (app) => {
    // A proxy that drops a DELETE body may keep its JSON content type: such an empty body counts as absent,
    // so that the id can come from the query. Any other empty JSON body stays an error.
    const parseJson = app.getDefaultJsonParser('error', 'error');
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      if (request.method === 'DELETE' && body === '') return done(null, undefined);
      return parseJson(request, body.toString(), done);
    });

    app.get(
      '/api/salesreps/organizations',
      {
        config: { policy: 'SalesRepSelf' },
        schema: {
          tags,
          operationId: 'listMyOrganizations',
          summary: "The calling rep's organizations",
          description:
            "Every assignment of the rep behind the token's user, active or not, by organization name. Policy: " +
            "SalesRep (or Admin) with an active assignment in the token's organization; a user who is no rep " +
            'anywhere gets an empty list, a rep inactive in (or absent from) the organization 403.',
          querystring: MyOrganizationsQuery,
          response: {
            200: jsonResponse("The rep's assignments, by organization name.", MyOrganizationsResponse, {
              salesRepOrganizations: [
                {
                  organizationId: '34ku8ni238sdin0n23cdm6',
                  organizationName: 'Acme Distributors',
                  identityOrganizationId: 'kinde_org_abc123',
                  identityProviderUserId: 'kinde_user_xyz789',
                  organizationSalesRepId: 'OJ76hgt87hgas4ffG5',
                  salesRepId: 'KJ76hgt87hgas4ffG3',
                  repNumber: 'REP-001',
                  firstName: 'Jane',
                  lastName: 'Smith',
                  email: 'jane.smith@example.com',
                  phoneNumber: '555-555-5555',
                  active: true,
                },
              ],
            }),
            ...errorResponses(400, 401, 403),
          },
        },
      },
      async (request) => ({ salesRepOrganizations: await listMyOrganizations(db, requireAuth(request)) }),
    );

    app.get(
      '/api/organizations/salesreps',
      {
        config: { policy: 'Admin' },
        schema: {
          tags,
          operationId: 'listSalesReps',
          summary: "The organization's sales reps, a page at a time",
          description:
            `${adminOnly} \`search\` keeps the reps whose first name, last name, email or rep number starts with the ` +
            "text in any letter case (this organization's names for them, never another's); `active` keeps the " +
            'active or the deactivated reps. X-Total-Count holds the number of matching reps; Link holds first, ' +
            'prev, next and last, with the same filters.',
          querystring: ListSalesRepsQuery,
          response: {
            200: jsonResponse(
              'One page of reps; X-Total-Count and Link describe the whole list.',
              Type.Array(OrganizationSalesRep, { maxItems: LIMITS.pageSize }),
              [JOHN, MARY],
              PAGE_HEADERS,
            ),
            ...errorResponses(400, 401, 403),
          },
        },
        preValidation: [requireDecimalPageParameters, canonicalSortParameters(SORT_FIELDS)],
      },
      async (request, reply) => {
        const page = await listSalesReps(db, requireAuth(request).organization, request.query);
        const { search, active } = request.query;
        reply.headers(
          paginationHeaders(request, {
            ...page,
            filters: { search, active: active === undefined ? undefined : String(active) },
          }),
        );
        return page.items;
      },
    );

    app.put(
      '/api/organizations/salesreps',
      {
        config: { policy: 'Admin' },
        schema: {
          tags,
          operationId: 'addSalesRep',
          summary: 'Create a sales rep (or reuse the one with that email) and assign it to the organization',
          description: `${adminOnly} Sends a welcome email and provisions the rep at the identity provider.`,
          body: AddSalesRepBody,
          response: {
            200: jsonResponse('The stored rep and its new assignment.', AddSalesRepResponse, {
              organizationId: JOHN.organizationId,
              organizationName: 'Acme Distributors',
              organizationSalesRepId: JOHN.organizationSalesRepId,
              salesRepId: JOHN.salesRepId,
              firstName: 'John',
              lastName: 'Doe',
              email: 'john.doe@example.com',
              phoneNumber: '123-456-7890',
              repNumber: 'REP-001',
              identityProvider: 'Kinde',
              identityProviderUserId: 'kinde_user_xyz789',
            }),
            ...errorResponses(400, 401, 403, 409, 413, 415),
          },
        },
      },
      async (request) =>
        addSalesRep(db, identity, requireAuth(request).organization, request.body, requestChange(request)),
    );

    app.patch(
      '/api/organizations/salesreps',
      {
        config: { policy: 'Admin' },
        schema: {
          tags,
          operationId: 'changeRepNumber',
          summary: "Change a rep's number within the organization",
          description: adminOnly,
          body: ChangeRepNumberBody,
          response: {
            200: jsonResponse('The assignment with its new number.', ChangeRepNumberResponse, {
              organizationId: JOHN.organizationId,
              organizationSalesRepId: JOHN.organizationSalesRepId,
              salesRepId: JOHN.salesRepId,
              repNumber: 'REP-099',
              firstName: 'John',
              lastName: 'Doe',
              email: 'john.doe@example.com',
              success: true,
            }),
            ...errorResponses(400, 401, 403, 404, 409, 413, 415),
          },
        },
      },
      async (request) =>
        changeRepNumber(db, requireAuth(request).organization, request.body, requestChange(request)),
    );

    for (const [path, active] of [
      ['/api/organizations/salesreps/activate', true],
      ['/api/organizations/salesreps/deactivate', false],
    ] as const) {
      app.post(
        path,
        {
          config: { policy: 'Admin' },
          schema: {
            tags,
            operationId: active ? 'activateSalesRep' : 'deactivateSalesRep',
            summary: active ? 'Reactivate a sales rep' : 'Deactivate a sales rep',
            description: `${adminOnly} Idempotent: repeating it changes nothing and sends nothing more.`,
            body: AssignmentBody,
            response: {
              200: { description: 'OK, with no body.', type: 'null' },
              ...errorResponses(400, 401, 403, 404, 413, 415),
            },
          },
        },
        async (request, reply) => {
          await setActive(
            db,
            requireAuth(request).organization,
            request.body.organizationSalesRepId,
            active,
            requestChange(request),
          );
          return sendEmpty(reply);
        },
      );
    }

    app.delete(
      '/api/organizations/salesreps',
      {
        config: { policy: 'Admin', bodyOptional: true },
        schema: {
          tags,
          operationId: 'removeSalesRep',
          summary: 'Remove a sales rep from the organization permanently',
          description:
            `${adminOnly} The organizationSalesRepId comes in the body or, for clients that cannot send a ` +
            'DELETE body, as a query parameter.',
          querystring: DeleteQuery,
          body: DeleteBody,
          response: {
            200: jsonResponse('The assignment is gone.', SuccessResponse, { success: true }),
            ...errorResponses(400, 401, 403, 404, 413, 415),
          },
        },
        // A DELETE without a body is validated as an empty one, so the id may come from the query instead.
        preValidation: async (request) => {
          request.body ??= {};
        },
      },
      async (request) => {
        const fromBody = request.body.organizationSalesRepId;
        const fromQuery = request.query.organizationSalesRepId;
        if (fromBody && fromQuery && fromBody !== fromQuery) {
          throw badRequest('organizationSalesRepId differs between the body and the query.', [
            { field: 'organizationSalesRepId', message: 'differs between the body and the query' },
          ]);
        }
        const id = fromBody ?? fromQuery;
        if (!id) {
          throw badRequest('organizationSalesRepId is required, in the body or the query.', [
            { field: 'organizationSalesRepId', message: 'is required' },
          ]);
        }
        await removeSalesRep(db, requireAuth(request).organization, id, requestChange(request));
        return { success: true as const };
      },
    );
  };
}
