// The admin's audit-log route: a page of the organization's events with a next link.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Db } from '../db/database.js';
import { eventDocs as docs } from './openapi.js';
import { ListEventsQuery } from './schemas.js';
import { listEvents } from './service.js';

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
        schema: { ...docs.listEvents, querystring: ListEventsQuery },
      },
      async (request, reply) => {
        const auth = request.auth;
        if (!auth) throw new Error('listEvents ran without authorization');
        const page = await listEvents(db, auth.organization.id, request.query);
        if (page.next !== undefined) {
          reply.header('link', nextLink(request.routeOptions.url, request.query, page.next));
        }
        return page.items;
      },
    );
  };
}

/** The `next` link: relative, the route's path with the page size and filters asked for, and the cursor. */
function nextLink(path: string | undefined, asked: ListEventsQuery, cursor: string): string {
  const query = new URLSearchParams();
  for (const name of KEPT) {
    const value = asked[name];
    if (value !== undefined) query.set(name, String(value));
  }
  query.set('cursor', cursor);
  return `<${path}?${query.toString()}>; rel="next"`;
}
