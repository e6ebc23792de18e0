// The actions events name; apart from record.ts so that the CLI's argument check reads them alone.

/** Every action an event can name (docs/events.md). */
export const EVENT_ACTIONS = [
  'sales_rep.created',
  'sales_rep.rep_number_changed',
  'sales_rep.updated',
  'sales_rep.activated',
  'sales_rep.deactivated',
  'sales_rep.removed',
  'customer.created',
  'customer.updated',
  'customer.deleted',
  'customer.imported',
  'effect.retried',
  'webhook.created',
  'webhook.deleted',
  'webhook.secret_rotated',
  'webhook.disabled',
  'scim_token.created',
  'scim_token.revoked',
  'sign_in.succeeded',
  'sign_in.failed',
  'sign_in.refused',
  'password.set',
  'password.reset',
  'invitation.sent',
  'invitation.resent',
  'sso.connection_updated',
  'sso.connection_removed',
  'sso.setup_link_created',
] as const;
export type EventAction = (typeof EVENT_ACTIONS)[number];
