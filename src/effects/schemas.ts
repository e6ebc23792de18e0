import { type Static, Type } from '@sinclair/typebox';

const EffectStatusFilter = Type.Union([Type.Literal('pending'), Type.Literal('dead')], {
  description: 'pending (not yet carried out, being retried) or dead (out of attempts); both when absent.',
});

export const ListEffectsQuery = Type.Object(
  {
    status: Type.Optional(EffectStatusFilter),
    pageNumber: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })),
    pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  },
  { additionalProperties: false },
);
export type ListEffectsQuery = Static<typeof ListEffectsQuery>;

export const EffectView = Type.Object({
  effectId: Type.String({
    description: 'Also the webhook-id of a sync POST and part of the Message-ID of a mail.',
  }),
  kind: Type.String({ examples: ['email.welcome', 'identity.provision', 'sync.grant'] }),
  status: EffectStatusFilter,
  salesRepId: Type.String(),
  attempts: Type.Integer(),
  nextAttemptAt: Type.String({ format: 'date-time' }),
  lastError: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
});
export type EffectView = Static<typeof EffectView>;

export const EffectList = Type.Array(EffectView);

export const RetryEffectBody = Type.Object(
  { effectId: Type.String({ pattern: '^[1-9][0-9]{0,17}$', description: 'The id of a dead effect.' }) },
  { additionalProperties: false },
);
export type RetryEffectBody = Static<typeof RetryEffectBody>;

export const RetryEffectResponse = Type.Object({
  effectId: Type.String(),
  status: Type.Literal('pending'),
});
