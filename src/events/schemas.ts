// The audit log's TypeBox schemas: the list's filters and cursor, and the view of an event.
import { type Static, Type } from '@sinclair/typebox';
import { EVENT_ACTIONS } from './actions.js';

export const EVENT_PAGE_SIZE = { max: 100, default: 50 } as const;

/** RFC 3339 with a time zone (Z or an offset), as `since` and `until` take it; checked as a real date too. */
const TIMESTAMP_PATTERN =
  '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})$';

const Id = (description: string) => Type.String({ minLength: 1, maxLength: 128, description });

export const ListEventsQuery = Type.Object(
  {
    pageSize: Type.Optional(
      Type.Integer({
        format: 'int32',
        minimum: 1,
        maximum: EVENT_PAGE_SIZE.max,
        default: EVENT_PAGE_SIZE.default,
      }),
    ),
    cursor: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        pattern: '^[A-Za-z0-9_-]+$',
        description: 'Where the page starts: copied from the `next` link of the page before, never made up.',
      }),
    ),
    action: Type.Optional(
      Type.String({ enum: [...EVENT_ACTIONS], description: 'Only events of this action.' }),
    ),
    actorId: Type.Optional(Id('Only events made by this actor (a user id, the CLI user, `salesreps`).')),
    targetId: Type.Optional(Id('Only events with a target of this id.')),
    collapseImports: Type.Optional(
      Type.Boolean({
        description:
          "true leaves out the events of an import's customers: its `customer.imported` event sums them up, " +
          "and `targetId` set to the import's id (its target `customer_import`) lists them.",
      }),
    ),
    since: Type.Optional(
      Type.String({
        maxLength: 40,
        pattern: TIMESTAMP_PATTERN,
        description: 'Only events that occurred at or after this time (RFC 3339).',
      }),
    ),
    until: Type.Optional(
      Type.String({
        maxLength: 40,
        pattern: TIMESTAMP_PATTERN,
        description: 'Only events that occurred before this time (RFC 3339).',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ListEventsQuery = Static<typeof ListEventsQuery>;

const Change = Type.Object(
  {
    from: Type.Unknown({ description: 'The value before; null when the thing did not exist.' }),
    to: Type.Unknown({ description: 'The value after; null when the thing is gone.' }),
  },
  { additionalProperties: false },
);

export const EventView = Type.Object(
  {
    id: Type.String({ maxLength: 64, description: 'Also the webhook-id of its deliveries.' }),
    occurredAt: Type.String({ format: 'date-time', maxLength: 40 }),
    action: Type.String({ enum: [...EVENT_ACTIONS] }),
    actor: Type.Object(
      {
        type: Type.String({ enum: ['user', 'scim', 'cli', 'system'] }),
        id: Type.String({ maxLength: 256 }),
      },
      { additionalProperties: false },
    ),
    targets: Type.Array(
      Type.Object(
        { type: Type.String({ maxLength: 64 }), id: Type.String({ maxLength: 128 }) },
        { additionalProperties: false },
      ),
      { maxItems: 10 },
    ),
    organizationId: Type.String({ maxLength: 64 }),
    requestId: Type.Union([Type.String({ maxLength: 128 }), Type.Null()]),
    changes: Type.Record(Type.String({ maxLength: 64 }), Change, {
      description: 'Each changed field with its value before and after.',
    }),
  },
  { additionalProperties: false },
);
export type EventView = Static<typeof EventView>;

export const EventList = Type.Array(EventView, { maxItems: EVENT_PAGE_SIZE.max });
