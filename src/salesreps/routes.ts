// The sales-rep routes: the admin's list and changes, and a rep's own organizations.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requireAuth } from '../auth/policies.js';
import type { Db } from '../db/database.js';
import { requestChange } from '../events/record.js';
import { type IdentityDirectory, LOCAL_IDENTITY_PROVIDER } from '../identity/port.js';
import { badRequest } from '../kernel/problem.js';
import { compileBulkValidator, compileValidator } from '../kernel/validation.js';
import {
  canonicalSortParameters,
  paginationHeaders,
  requireDecimalPageParameters,
} from '../routing/page-query.js';
import { sendEmpty } from '../routing/route-schema.js';
import { salesRepDocs as docs } from './openapi.js';
import {
  AddSalesRepBody,
  AssignmentBody,
  BULK_ADD_BODY_LIMIT_BYTES,
  BulkAddSalesRepsBody,
  BulkAddSalesRepsQuery,
  ChangeRepNumberBody,
  DeleteBody,
  DeleteQuery,
  LIMITS,
  ListSalesRepsQuery,
  MyOrganizationsQuery,
  SORT_FIELDS,
} from './schemas.js';
import {
  addSalesRep,
  addSalesReps,
  changeRepNumber,
  listMyOrganizations,
  listSalesReps,
  pendingInvitations,
  removeSalesRep,
  sendPendingInvitations,
  setActive,
} from './service.js';

/** The admin's sales-rep routes (list, add, renumber, activate, deactivate, remove) and the rep's own organizations. */
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
        schema: { ...docs.listMyOrganizations, querystring: MyOrganizationsQuery },
      },
      async (request) => ({ salesRepOrganizations: await listMyOrganizations(db, requireAuth(request)) }),
    );

    app.get(
      '/api/organizations/salesreps',
      {
        config: { policy: 'Admin' },
        schema: { ...docs.listSalesReps, querystring: ListSalesRepsQuery },
        preValidation: [requireDecimalPageParameters, canonicalSortParameters(SORT_FIELDS)],
      },
      async (request, reply) => {
        const page = await listSalesReps(
          db,
          requireAuth(request).organization,
          request.query,
          identity.name === LOCAL_IDENTITY_PROVIDER,
        );
        const { search, active, include } = request.query;
        reply.headers(
          paginationHeaders(request, {
            ...page,
            filters: { search, active: active === undefined ? undefined : String(active), include },
          }),
        );
        return page.items;
      },
    );

    app.put(
      '/api/organizations/salesreps',
      {
        config: { policy: 'Admin' },
        schema: { ...docs.addSalesRep, body: AddSalesRepBody },
      },
      async (request) =>
        addSalesRep(db, identity, requireAuth(request).organization, request.body, requestChange(request)),
    );

    app.post(
      '/api/organizations/salesreps/bulk',
      {
        config: { policy: 'Admin' },
        bodyLimit: BULK_ADD_BODY_LIMIT_BYTES,
        // Checked item by item, so that each bad field is named by its item (`[41].email`) at a bounded cost.
        validatorCompiler: ({ schema, httpPart }) =>
          httpPart === 'body'
            ? compileBulkValidator(AddSalesRepBody, { minItems: 1, maxItems: LIMITS.bulkAdd })
            : compileValidator(schema, httpPart ?? 'querystring'),
        schema: { ...docs.addSalesReps, querystring: BulkAddSalesRepsQuery, body: BulkAddSalesRepsBody },
      },
      async (request) =>
        addSalesReps(db, identity, requireAuth(request).organization, request.body, requestChange(request), {
          sendInvitations: request.query.sendInvitations ?? true,
        }),
    );

    app.get(
      '/api/organizations/salesreps/pending-invitations',
      { config: { policy: 'Admin' }, schema: docs.pendingInvitations },
      async (request) => ({ pending: await pendingInvitations(db, requireAuth(request).organization) }),
    );

    app.post(
      '/api/organizations/salesreps/pending-invitations',
      { config: { policy: 'Admin' }, schema: docs.sendPendingInvitations },
      async (request) =>
        sendPendingInvitations(db, requireAuth(request).organization, requestChange(request)),
    );

    app.patch(
      '/api/organizations/salesreps',
      {
        config: { policy: 'Admin' },
        schema: { ...docs.changeRepNumber, body: ChangeRepNumberBody },
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
          schema: { ...(active ? docs.activateSalesRep : docs.deactivateSalesRep), body: AssignmentBody },
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
        schema: { ...docs.removeSalesRep, querystring: DeleteQuery, body: DeleteBody },
        // A DELETE without a body is validated as an empty one, so the id may come from the query instead.
        preValidation: async (request) => {
          request.body ??= {};
        },
      },
      async (request) => {
        const id = assignmentToRemove(
          request.body.organizationSalesRepId,
          request.query.organizationSalesRepId,
        );
        await removeSalesRep(db, requireAuth(request).organization, id, requestChange(request));
        return { success: true as const };
      },
    );
  };
}

/** The assignment a DELETE names, in its body or its query (not two different ones): one of them is required. */
function assignmentToRemove(fromBody: string | undefined, fromQuery: string | undefined): string {
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
  return id;
}
