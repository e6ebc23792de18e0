// The handler of event webhook deliveries (webhook.deliver), carried out by the webhooks unit.
import { deliverWebhook } from '../../webhooks/deliver.js';
import type { EffectHandlers } from '../handler-contract.js';

/** Event webhooks: one effect per event and subscription, carried out by the webhooks unit's delivery. */
export const eventDeliveryHandlers: Pick<EffectHandlers, 'webhook.deliver'> = {
  'webhook.deliver': (run, payload) =>
    deliverWebhook(run.db, run.targets.webhooks, payload, run.claimed.attempts, run.deadline),
};
