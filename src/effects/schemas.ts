// The effect routes' TypeBox schemas: the list's query and the view of an effect.
import { type Static, type TProperties, Type } from '@sinclair/typebox';

const EffectStatusFilter = Type.Union([Type.Literal('pending'), Type.Literal('dead')], {
  description: 'pending (not yet carried out, being retried) or dead (out of attempts); both when absent.',
});

export const ListEffectsQuery = Type.Object(
  {
    status: Type.Optional(EffectStatusFilter),
    pageNumber: Type.Optional(Type.Integer({ format: 'int32', minimum: 1, maximum: 1_000_000, default: 1 })),
    pageSize: Type.Optional(Type.Integer({ format: 'int32', minimum: 1, maximum: 100, default: 50 })),
  },
  { additionalProperties: false },
);
export type ListEffectsQuery = Static<typeof ListEffectsQuery>;

export const EffectView = Type.Object({
  effectId: Type.String({
    maxLength: 18,
    pattern: '^[1-9][0-9]*$',
    description: 'Also the webhook-id of a sync POST and part of the Message-ID of a mail.',
  }),
  kind: Type.String({ maxLength: 64, examples: ['email.welcome', 'identity.provision', 'sync.grant'] }),
  status: EffectStatusFilter,
  salesRepId: Type.String({ maxLength: 64 }),
  attempts: Type.Integer({ format: 'int32', minimum: 0, maximum: 2_147_483_647 }),
  nextAttemptAt: Type.String({ format: 'date-time', maxLength: 40 }),
  lastError: Type.Union([
    Type.String({ maxLength: 2000, description: "The last attempt's error, cut to 2,000 characters" }),
    Type.Null(),
  ]),
  createdAt: Type.String({ format: 'date-time', maxLength: 40 }),
});
export type EffectView = Static<typeof EffectView>;

export const EffectList = Type.Array(EffectView, { maxItems: 100 });

export const RetryEffectBody = Type.Object(
  {
    effectId: Type.String({
      maxLength: 18,
      pattern: '^[1-9][0-9]{0,17}$',
      description: 'The id of a dead effect.',
      examples: ['4711'],
    }),
  },
  { additionalProperties: false, examples: [{ effectId: '4711' }] },
);
export type RetryEffectBody = Static<typeof RetryEffectBody>;

export const RetryEffectResponse = Type.Object({
  effectId: Type.String({ maxLength: 18 }),
  status: Type.Literal('pending'),
});

const syncDelivery = <Data extends TProperties>(type: string, description: string, data: Data) =>
  Type.Object(
    {
      type: Type.Literal(type, { description }),
      timestamp: Type.String({
        format: 'date-time',
        maxLength: 40,
        description: 'When this attempt was signed.',
      }),
      data: Type.Object(data, { additionalProperties: false }),
    },
    { additionalProperties: false },
  );

const SyncId = Type.String({ maxLength: 64 });

/** What the data-sync system receives for each change of a rep's access (SYNC=webhook, docs/effects.md). */
export const SyncDelivery = Type.Union([
  syncDelivery(
    'salesrep.access.granted',
    "The rep may sync the organization's data (added, activated, renumbered).",
    {
      salesRepId: SyncId,
      organizationId: SyncId,
      repNumber: Type.String({ maxLength: 32 }),
      email: Type.String({ format: 'email', maxLength: 254 }),
    },
  ),
  syncDelivery('salesrep.access.revoked', "The rep may no longer sync the organization's data.", {
    salesRepId: SyncId,
    organizationId: SyncId,
  }),
  syncDelivery('salesrep.account.deleted', 'The rep left its last organization: delete its account.', {
    salesRepId: SyncId,
  }),
]);
