import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Db } from '../db/database.js';
import { errorResponses, jsonResponse } from '../routing/route-schema.js';
import { EventList, ListEventsQuery } from './schemas.js';
import { listEvents } from './service.js';

const tags = ['Events'];

/** The query parameters a next link keeps: the page size and the filters. */
const KEPT = ['pageSize', 'action', 'actorId', 'targetId', 'since', 'until'] as const;

/** The audit log of the admin's organization. */
export function eventRoutes(deps: { db: Db }): FastifyPluginAsyncTypebox {
  const { db } = deps;
  return async (app) => {
    app.get(
      '/api/organizations/events',
      {
        config: { policy: 'Admin' },
        schema: {
          tags,
          operationId: 'listEvents',
          summary: "The organization's audit log, newest first",
          description:
            "Policy: Admin of the token's organization. A bare array, newest first; `Link` holds `next` (a cursor) " +
            'while older events match. Pages stay exact while events are written: a page never repeats or skips ' +
            'an event of the pages before.',
          querystring: ListEventsQuery,
          response: {
            200: jsonResponse(
              'A page of events, newest first.',
              EventList,
              [
                {
                  id: 'Vb3kLm9QwErTyUiOp1AsDf',
                  occurredAt: '2026-12-01T09:15:00.000Z',
                  action: 'sales_rep.deactivated',
                  actor: { type: 'user', id: 'kinde_user_admin1' },
                  targets: [
                    { type: 'organization_sales_rep', id: 'OJ76hgt87hgas4ffG5' },
                    { type: 'sales_rep', id: 'KJ76hgt87hgas4ffG3' },
                  ],
                  organizationId: '34ku8ni238sdin0n23cdm6',
                  requestId: '3f2b8c1e-9d4a-4c6b-8e7f-1a2b3c4d5e6f',
                  changes: { active: { from: true, to: false } },
                },
              ],
              {
                Link: Type.String({
                  maxLength: 4096,
                  description: 'RFC 8288: `next`, relative to this service, while older events match.',
                }),
              },
            ),
            ...errorResponses(400, 401, 403),
          },
        },
      },
      async (request, reply) => {
        const auth = request.auth;
        if (!auth) throw new Error('listEvents ran without authorization');
        const page = await listEvents(db, auth.organization.id, request.query);
        if (page.next !== undefined) {
          const query = new URLSearchParams();
          for (const name of KEPT) {
            const value = request.query[name];
            if (value !== undefined) query.set(name, String(value));
          }
          query.set('cursor', page.next);
          reply.header('link', `<${request.routeOptions.url}?${query.toString()}>; rel="next"`);
        }
        return page.items;
      },
    );
  };
}
