import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requireAuth } from '../auth/policies.js';
import type { Db } from '../db/database.js';
import type { IdentityDirectory } from '../identity/port.js';
import { paginationHeaders, requireDecimalPageParameters } from '../kernel/paging.js';
import { badRequest } from '../kernel/problem.js';
import { errorResponses, sendEmpty } from '../kernel/route-schema.js';
import {
  AddSalesRepBody,
  AddSalesRepResponse,
  AssignmentBody,
  ChangeRepNumberBody,
  ChangeRepNumberResponse,
  DeleteBody,
  DeleteQuery,
  ListSalesRepsQuery,
  MyOrganizationsQuery,
  MyOrganizationsResponse,
  OrganizationSalesRep,
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
          summary: "The calling rep's organizations",
          description:
            "Every assignment of the rep behind the token's user, active or not, by organization name. Policy: " +
            "SalesRep (or Admin) with an active assignment in the token's organization; a user who is no rep " +
            'anywhere gets an empty list, a rep inactive in (or absent from) the organization 403.',
          querystring: MyOrganizationsQuery,
          response: { 200: MyOrganizationsResponse, ...errorResponses(400, 401, 403) },
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
          summary: "The organization's sales reps, a page at a time",
          description: `${adminOnly} X-Total-Count holds the number of reps; Link holds first, prev, next and last.`,
          querystring: ListSalesRepsQuery,
          response: {
            200: {
              ...Type.Array(OrganizationSalesRep),
              headers: Type.Object({ 'X-Total-Count': Type.Integer(), Link: Type.String() }),
            },
            ...errorResponses(400, 401, 403),
          },
        },
        preValidation: requireDecimalPageParameters,
      },
      async (request, reply) => {
        const page = await listSalesReps(db, requireAuth(request).organization, request.query);
        reply.headers(paginationHeaders(request, page));
        return page.items;
      },
    );

    app.put(
      '/api/organizations/salesreps',
      {
        config: { policy: 'Admin' },
        schema: {
          tags,
          summary: 'Create a sales rep (or reuse the one with that email) and assign it to the organization',
          description: `${adminOnly} Sends a welcome email and provisions the rep at the identity provider.`,
          body: AddSalesRepBody,
          response: { 200: AddSalesRepResponse, ...errorResponses(400, 401, 403, 409, 413, 415) },
        },
      },
      async (request) => addSalesRep(db, identity, requireAuth(request).organization, request.body),
    );

    app.patch(
      '/api/organizations/salesreps',
      {
        config: { policy: 'Admin' },
        schema: {
          tags,
          summary: "Change a rep's number within the organization",
          description: adminOnly,
          body: ChangeRepNumberBody,
          response: { 200: ChangeRepNumberResponse, ...errorResponses(400, 401, 403, 404, 409, 413, 415) },
        },
      },
      async (request) => changeRepNumber(db, requireAuth(request).organization, request.body),
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
          await setActive(db, requireAuth(request).organization, request.body.organizationSalesRepId, active);
          return sendEmpty(reply);
        },
      );
    }

    app.delete(
      '/api/organizations/salesreps',
      {
        config: { policy: 'Admin' },
        schema: {
          tags,
          summary: 'Remove a sales rep from the organization permanently',
          description:
            `${adminOnly} The organizationSalesRepId comes in the body or, for clients that cannot send a ` +
            'DELETE body, as a query parameter.',
          querystring: DeleteQuery,
          body: DeleteBody,
          response: { 200: SuccessResponse, ...errorResponses(400, 401, 403, 404, 413, 415) },
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
        await removeSalesRep(db, requireAuth(request).organization, id);
        return { success: true as const };
      },
    );
  };
}
