// The OpenAPI documentation of the audit log's route: its summary, description, response and example.
import { Type } from '@sinclair/typebox';
import { errorResponses, jsonResponse } from '../routing/route-schema.js';
import { EventList } from './schemas.js';

/** An event as the log lists it and as a webhook delivery carries it: an admin deactivated a rep. */
export const DEACTIVATION_EVENT = {
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
};

const tags = ['Events'];

export const eventDocs = {
  listEvents: {
    tags,
    operationId: 'listEvents',
    summary: "The organization's audit log, newest first",
    description:
      "Policy: Admin of the token's organization. A bare array, newest first; `Link` holds `next` (a cursor) " +
      'while older events match. Pages stay exact while events are written: a page never repeats or skips ' +
      'an event of the pages before.',
    response: {
      200: jsonResponse('A page of events, newest first.', EventList, [DEACTIVATION_EVENT], {
        // Sent only while older events match: absent on the last page.
        Link: Type.Optional(
          Type.String({
            maxLength: 4096,
            description:
              'RFC 8288: `next`, relative to this service, while older events match; absent on the last page.',
          }),
        ),
      }),
      ...errorResponses(400, 401, 403),
    },
  },
};
