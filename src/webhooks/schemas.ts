// The webhook routes' TypeBox schemas: limits, the subscription body and the views.
import { type Static, Type } from '@sinclair/typebox';
import { EVENT_ACTIONS } from '../events/actions.js';
import { EventView } from '../events/schemas.js';

export const WEBHOOK_LIMITS = { perOrganization: 20, urlLength: 2000, deliveriesShown: 50 } as const;

const EventType = Type.String({ enum: [...EVENT_ACTIONS] });

export const CreateWebhookBody = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      maxLength: WEBHOOK_LIMITS.urlLength,
      description: 'An https URL on the internet (loopback, private and link-local addresses are refused).',
    }),
    eventTypes: Type.Optional(
      Type.Array(EventType, {
        minItems: 1,
        maxItems: EVENT_ACTIONS.length,
        uniqueItems: true,
        description: 'The actions sent; every action when absent.',
      }),
    ),
  },
  {
    additionalProperties: false,
    examples: [{ url: 'https://erp.example.com/hooks/salesreps', eventTypes: ['sales_rep.deactivated'] }],
  },
);
export type CreateWebhookBody = Static<typeof CreateWebhookBody>;

export const WebhookParams = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[0-9A-Za-z]+$' }) },
  { additionalProperties: false },
);

export const Webhook = Type.Object(
  {
    id: Type.String({ maxLength: 64 }),
    url: Type.String({ maxLength: WEBHOOK_LIMITS.urlLength }),
    eventTypes: Type.Union([Type.Array(EventType, { maxItems: EVENT_ACTIONS.length }), Type.Null()], {
      description: 'null: every action.',
    }),
    enabled: Type.Boolean(),
    disabledReason: Type.Union([Type.String({ maxLength: 500 }), Type.Null()]),
    createdAt: Type.String({ format: 'date-time', maxLength: 40 }),
  },
  { additionalProperties: false },
);
export type Webhook = Static<typeof Webhook>;

const Secret = Type.String({
  maxLength: 100,
  pattern: '^whsec_[A-Za-z0-9+/=]+$',
  description: 'The Standard Webhooks signing secret; shown only here.',
});

export const CreatedWebhook = Type.Object(
  {
    id: Type.String({ maxLength: 64 }),
    url: Type.String({ maxLength: WEBHOOK_LIMITS.urlLength }),
    eventTypes: Webhook.properties.eventTypes,
    secret: Secret,
  },
  { additionalProperties: false },
);
export type CreatedWebhook = Static<typeof CreatedWebhook>;

export const RotatedSecret = Type.Object(
  {
    id: Type.String({ maxLength: 64 }),
    secret: Secret,
    previousSecretValidUntil: Type.String({ format: 'date-time', maxLength: 40 }),
  },
  { additionalProperties: false },
);

export const WebhookList = Type.Array(Webhook, { maxItems: WEBHOOK_LIMITS.perOrganization });

const Delivery = Type.Object(
  {
    eventId: Type.String({ maxLength: 64 }),
    attemptedAt: Type.String({ format: 'date-time', maxLength: 40 }),
    outcome: Type.String({ enum: ['delivered', 'failed', 'timed-out', 'refused', 'gone'] }),
    statusCode: Type.Union([Type.Integer({ format: 'int32', minimum: 100, maximum: 599 }), Type.Null()]),
    latencyMs: Type.Integer({ format: 'int32', minimum: 0, maximum: 2_147_483_647 }),
    error: Type.Union([Type.String({ maxLength: 500 }), Type.Null()]),
  },
  { additionalProperties: false },
);
export const DeliveryList = Type.Array(Delivery, { maxItems: WEBHOOK_LIMITS.deliveriesShown });

export const DeletedWebhook = Type.Object({ success: Type.Literal(true) }, { additionalProperties: false });

/** What a webhook receives for each event: the Standard Webhooks envelope around the event as the API shows it. */
export const EventDelivery = Type.Object(
  {
    type: Type.String({ enum: [...EVENT_ACTIONS], description: "The event's action." }),
    timestamp: Type.String({
      format: 'date-time',
      maxLength: 40,
      description: 'When this attempt was signed.',
    }),
    data: EventView,
  },
  { additionalProperties: false },
);
