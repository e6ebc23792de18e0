// The effect routes' TypeBox schemas: the list's query and the view of an effect.
import { type Static, Type } from '@sinclair/typebox';

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
