// The webhooks' use-cases: create, list, delete, rotate the secret, with their events.
import { randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Db, Executor } from '../db/database.js';
import type { Organization, WebhookSubscriptionTable } from '../db/schema.js';
import { type ChangeContext, recordEvents } from '../events/record.js';
import { newId } from '../kernel/ids.js';
import { badRequest, conflict, notFound } from '../kernel/problem.js';
import { lockBelowCap } from '../organizations/lock.js';
import { ipLiteral, isForbiddenAddress, resolveAll, urlProblem } from './address-guard.js';
import {
  deleteSubscription,
  findSubscription,
  insertSubscription,
  listDeliveries,
  listSubscriptions,
  rotateSecret,
} from './queries.js';
import { type CreatedWebhook, type CreateWebhookBody, WEBHOOK_LIMITS, type Webhook } from './schemas.js';

export interface WebhookSettings {
  /** WEBHOOKS_ALLOW_PRIVATE_NETWORKS: http and private, loopback and link-local addresses allowed. */
  allowPrivateNetworks: boolean;
}

/** How long the secret before a rotation still signs deliveries, beside the new one. */
const PREVIOUS_SECRET_VALID_MS = 24 * 60 * 60 * 1000;
/** How long a subscribe waits for the URL's name to resolve before it accepts it unchecked (checked at delivery). */
const SUBSCRIBE_RESOLVE_TIMEOUT_MS = 2000;

/** A Standard Webhooks secret: `whsec_` and 32 random bytes in base64. */
function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

function toWebhook(row: Selectable<WebhookSubscriptionTable>): Webhook {
  return {
    id: row.id,
    url: row.url,
    eventTypes: row.event_types as Webhook['eventTypes'],
    enabled: row.enabled,
    disabledReason: row.disabled_reason,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

function refusedUrl(message: string) {
  return badRequest(`The request body is not valid: url.`, [{ field: 'url', message }]);
}

/** Refuses a URL that may not be delivered to: its form, and the addresses its name resolves to now. */
async function checkUrl(url: string, settings: WebhookSettings): Promise<void> {
  const problem = urlProblem(url, settings.allowPrivateNetworks);
  if (problem) throw refusedUrl(problem);
  if (settings.allowPrivateNetworks) return;
  const { hostname } = new URL(url);
  if (ipLiteral(hostname) !== undefined) return;
  const addresses = await resolveAll(hostname, SUBSCRIBE_RESOLVE_TIMEOUT_MS);
  if (addresses.some(isForbiddenAddress)) {
    throw refusedUrl('must not resolve to a loopback, private or link-local address');
  }
}

function webhookNotFound() {
  return notFound('No webhook with that id in this organization.');
}

/** Subscribes a URL to the organization's events; the answer holds the signing secret, shown this once. */
export async function createWebhook(
  db: Db,
  organization: Organization,
  body: CreateWebhookBody,
  change: ChangeContext,
  settings: WebhookSettings,
): Promise<CreatedWebhook> {
  await checkUrl(body.url, settings);
  return db.transaction().execute(async (trx) => {
    await lockBelowCap(trx, organization.id, {
      table: 'webhook_subscription',
      most: WEBHOOK_LIMITS.perOrganization,
      refusal: () =>
        conflict(
          'webhook-limit-reached',
          `An organization has at most ${WEBHOOK_LIMITS.perOrganization} webhooks; delete one first.`,
        ),
    });
    const row = await insertSubscription(trx, {
      id: newId(),
      organization_id: organization.id,
      url: body.url,
      event_types: body.eventTypes ?? null,
      secret: newSecret(),
    });
    await recordEvents(trx, change, organization.id, [
      {
        action: 'webhook.created',
        targets: [{ type: 'webhook', id: row.id }],
        changes: { url: { from: null, to: row.url }, eventTypes: { from: null, to: row.event_types } },
      },
    ]);
    return { id: row.id, url: row.url, eventTypes: toWebhook(row).eventTypes, secret: row.secret };
  });
}

export async function listWebhooks(db: Executor, organizationId: string): Promise<Webhook[]> {
  return (await listSubscriptions(db, organizationId, WEBHOOK_LIMITS.perOrganization)).map(toWebhook);
}

/** Deletes a subscription; its deliveries not yet made are dropped (their effects find it gone). */
export async function deleteWebhook(db: Db, organizationId: string, id: string, change: ChangeContext) {
  await db.transaction().execute(async (trx) => {
    const existing = await findSubscription(trx, organizationId, id, true);
    if (!existing || (await deleteSubscription(trx, organizationId, id)) === 0) throw webhookNotFound();
    await recordEvents(trx, change, organizationId, [
      {
        action: 'webhook.deleted',
        targets: [{ type: 'webhook', id }],
        changes: { url: { from: existing.url, to: null } },
      },
    ]);
  });
}

/** A new secret; the one before also signs for PREVIOUS_SECRET_VALID_MS, so receivers can switch without a gap. */
export async function rotateWebhookSecret(db: Db, organizationId: string, id: string, change: ChangeContext) {
  return db.transaction().execute(async (trx) => {
    const existing = await findSubscription(trx, organizationId, id, true);
    if (!existing) throw webhookNotFound();
    const secret = newSecret();
    await rotateSecret(trx, id, secret, PREVIOUS_SECRET_VALID_MS);
    await recordEvents(trx, change, organizationId, [
      { action: 'webhook.secret_rotated', targets: [{ type: 'webhook', id }], changes: {} },
    ]);
    const rotated = await findSubscription(trx, organizationId, id);
    return {
      id,
      secret,
      previousSecretValidUntil: new Date(rotated?.previous_secret_until ?? Date.now()).toISOString(),
    };
  });
}

/** The subscription's newest delivery attempts. */
export async function webhookDeliveries(db: Executor, organizationId: string, id: string) {
  if (!(await findSubscription(db, organizationId, id))) throw webhookNotFound();
  const rows = await listDeliveries(db, id, WEBHOOK_LIMITS.deliveriesShown);
  return rows.map((row) => ({
    eventId: row.event_id,
    attemptedAt: new Date(row.attempted_at).toISOString(),
    outcome: row.outcome,
    statusCode: row.status_code,
    latencyMs: row.latency_ms,
    error: row.error,
  }));
}
