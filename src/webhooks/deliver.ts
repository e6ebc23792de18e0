// Delivering an event to a webhook: signed, with a retry schedule, logged, and disabling a failing one.
import http from 'node:http';
import https from 'node:https';
import { Webhook as Signer } from 'standardwebhooks';
import type { Db } from '../db/database.js';
import { recordEvents, SYSTEM_CHANGE } from '../events/record.js';
import { toEventView } from '../events/service.js';
import { ScheduledRetryError } from '../kernel/remote-errors.js';
import { inSpan } from '../kernel/tracing.js';
import {
  ForbiddenAddressError,
  guardedLookup,
  ipLiteral,
  isForbiddenAddress,
  portOf,
  WEBHOOK_PORTS,
} from './address-guard.js';
import { disableSubscription, findDelivery, logDelivery, markFailing, markSucceeding } from './queries.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The waits after each failed attempt (the first is immediate): Standard Webhooks' and Svix's schedule (5 s, 5 min,
 * 30 min, 2 h, 5 h, 10 h), carried on to about three days in all; ten attempts, then the delivery is dead.
 */
const RETRY_SCHEDULE_MS = [
  5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 50_400_000, 72_000_000, 86_400_000,
];
/** A subscription whose deliveries have failed for this long (with no success between) is disabled. */
const DISABLE_AFTER_FAILING_MS = 5 * DAY_MS;

export interface DeliverySettings {
  allowPrivateNetworks: boolean;
  /** The kept-alive connections to the receivers (keptAliveConnections), one pool per receiver's host and port. */
  connections: ReceiverConnections;
  /** Each POST's time-out (EFFECTS_CALL_TIMEOUT_MS, 15 s by default). */
  timeoutMs: number;
  /** Multiplies the schedule and the disable window: EFFECTS_RETRY_BASE_MS / 1000, so 1 unless tests shorten it. */
  scale: number;
}

/** The wait after failed attempt `attempts` (1-based), with ±10 % jitter; undefined when there is none left. */
function webhookRetryDelayMs(attempts: number, scale: number, random = Math.random): number | undefined {
  const wait = RETRY_SCHEDULE_MS[attempts - 1];
  if (wait === undefined) return undefined;
  return Math.round(wait * scale * (0.9 + 0.2 * random()));
}

/**
 * What the delivery log says of an attempt that got no answer: one phrase per outcome, never the system's error
 * (ENOTFOUND, ECONNREFUSED, EHOSTUNREACH), which would tell an admin which hosts exist and which ports are open.
 */
const REFUSED = 'the address or the port is not allowed';
const FAILED = 'no connection to the receiver';

export interface ReceiverConnections {
  http: http.Agent;
  https: https.Agent;
  /** Closes the idle connections (at shutdown). */
  close(): void;
}

/**
 * Connections kept open between deliveries, pooled per receiver (the agent's pool per host and port): a delivery
 * then costs one request on an open connection rather than a TCP (and TLS) handshake. Each connection is opened
 * through the address guard as before, so a kept one goes to an address that was allowed when it was opened.
 */
export function keptAliveConnections(): ReceiverConnections {
  const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  return {
    ...agents,
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

/** The longest answer body read to its end so that its connection is kept. */
const SHORT_ANSWER_BYTES = 64 * 1024;

type Attempt =
  | { outcome: 'answered'; status: number; latencyMs: number }
  | { outcome: 'timed-out' | 'refused' | 'failed'; error: string; latencyMs: number };

/**
 * One POST, no redirect followed, to the address the guard checked (the lookup answers it and the connection
 * goes there; an IP literal is checked before). Never rejects.
 */
async function post(
  url: URL,
  headers: Record<string, string>,
  body: string,
  settings: DeliverySettings,
  deadline: AbortSignal,
): Promise<Attempt> {
  const literal = ipLiteral(url.hostname);
  if (
    !settings.allowPrivateNetworks &&
    ((literal !== undefined && isForbiddenAddress(literal)) || !WEBHOOK_PORTS.has(portOf(url)))
  ) {
    return { outcome: 'refused', error: REFUSED, latencyMs: 0 };
  }
  const agent = url.protocol === 'https:' ? settings.connections.https : settings.connections.http;
  const kept = await postOnce(url, headers, body, settings, deadline, agent);
  // A kept connection the receiver closed as the request went out (it restarted, or its idle time-out ended the
  // connection first) is reset before any answer: sent again at once on a new connection, not counted a failed
  // attempt; the same webhook-id lets a receiver that read it after all drop the repeat.
  if (kept.stale && !deadline.aborted)
    return (await postOnce(url, headers, body, settings, deadline, false)).attempt;
  return kept.attempt;
}

function postOnce(
  url: URL,
  headers: Record<string, string>,
  body: string,
  settings: DeliverySettings,
  deadline: AbortSignal,
  agent: http.Agent | false,
): Promise<{ attempt: Attempt; stale: boolean }> {
  const started = Date.now();
  const latency = () => Date.now() - started;
  return new Promise((resolve) => {
    let timedOut = false;
    const request = (url.protocol === 'https:' ? https : http).request(url, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      lookup: guardedLookup(settings.allowPrivateNetworks),
      agent,
    });
    const stop = () => {
      timedOut = true;
      request.destroy(new Error('timed out'));
    };
    const timer = setTimeout(stop, settings.timeoutMs);
    deadline.addEventListener('abort', stop, { once: true });
    const finish = (attempt: Attempt, stale = false) => {
      clearTimeout(timer);
      deadline.removeEventListener('abort', stop);
      resolve({ attempt, stale });
    };
    request.on('response', (response) => {
      // Only the status counts. A short body is read to its end (and dropped), which gives the connection back to
      // the pool; a long one, or one of unknown length, is cut with its connection.
      const status = response.statusCode ?? 0;
      const length = Number(response.headers['content-length']);
      response.resume();
      finish({ outcome: 'answered', status, latencyMs: latency() });
      if (!(status === 204 || status === 304 || length <= SHORT_ANSWER_BYTES)) response.destroy();
    });
    request.on('error', (error) => {
      if (timedOut)
        finish({
          outcome: 'timed-out',
          error: `no answer within ${settings.timeoutMs} ms`,
          latencyMs: latency(),
        });
      else if (error instanceof ForbiddenAddressError)
        finish({ outcome: 'refused', error: REFUSED, latencyMs: latency() });
      else
        finish(
          { outcome: 'failed', error: FAILED, latencyMs: latency() },
          request.reusedSocket && isReset(error),
        );
    });
    request.end(body);
  });
}

/** A connection that the other end closed or reset: what a kept one the receiver dropped fails with. */
function isReset(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}

/** Disables the subscription and records `webhook.disabled` (the service is the actor), in one transaction. */
async function disable(
  db: Db,
  organizationId: string,
  subscriptionId: string,
  reason: string,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    if (!(await disableSubscription(trx, subscriptionId, reason))) return;
    await recordEvents(trx, SYSTEM_CHANGE, organizationId, [
      {
        action: 'webhook.disabled',
        targets: [{ type: 'webhook', id: subscriptionId }],
        changes: { enabled: { from: true, to: false }, disabledReason: { from: null, to: reason } },
      },
    ]);
  });
}

/**
 * Delivers one event to one subscription (the effect `webhook.deliver`), signed as Standard Webhooks says with the
 * event id as webhook-id (the same on every attempt) and, for a day after a rotation, the previous secret too.
 * 2xx: done. 410: the subscription is disabled. Anything else is retried on RETRY_SCHEDULE_MS; a subscription
 * failing for DISABLE_AFTER_FAILING_MS is disabled. Every attempt is logged for the admin.
 */
export async function deliverWebhook(
  db: Db,
  settings: DeliverySettings,
  payload: { eventId: string; subscriptionId: string },
  attempts: number,
  deadline: AbortSignal,
): Promise<string> {
  const found = await findDelivery(db, payload.subscriptionId, payload.eventId);
  if (!found) return 'skipped: the webhook was deleted';
  const { event, ...subscription } = found;
  if (!subscription.enabled) return 'skipped: the webhook is disabled';
  if (!event) return 'skipped: the event is past its retention';

  const now = new Date();
  const body = JSON.stringify({
    type: event.action,
    timestamp: now.toISOString(),
    data: toEventView(event),
  });
  const secrets = [subscription.secret];
  if (
    subscription.previous_secret &&
    subscription.previous_secret_until &&
    subscription.previous_secret_until > now
  ) {
    secrets.push(subscription.previous_secret);
  }
  const signature = secrets.map((secret) => new Signer(secret).sign(event.id, now, body)).join(' ');
  const url = new URL(subscription.url);
  // The URL itself is not written down: its path or query may hold the receiver's own secret.
  const described = {
    'http.request.method': 'POST',
    'server.address': url.hostname,
    'server.port': portOf(url),
    'salesreps.webhook.id': subscription.id,
  };
  const attempt = await inSpan('POST', { kind: 'client', attributes: described }, async (span) => {
    const posted = await post(
      url,
      {
        ...span.traceHeaders(),
        'content-type': 'application/json',
        'user-agent': 'salesreps-webhooks',
        'webhook-id': event.id,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': signature,
      },
      body,
      settings,
      deadline,
    );
    span.setAttributes(
      posted.outcome === 'answered'
        ? { 'http.response.status_code': posted.status }
        : { 'error.type': posted.outcome },
    );
    return posted;
  });
  const answered = attempt.outcome === 'answered' ? attempt.status : undefined;
  const delivered = answered !== undefined && answered >= 200 && answered < 300;
  const outcome =
    attempt.outcome !== 'answered'
      ? attempt.outcome
      : delivered
        ? 'delivered'
        : answered === 410
          ? 'gone'
          : 'failed';
  await logDelivery(db, {
    subscription_id: subscription.id,
    event_id: event.id,
    status_code: answered ?? null,
    outcome,
    error:
      attempt.outcome === 'answered'
        ? delivered
          ? null
          : `answered ${answered}`
        : attempt.error.slice(0, 500),
    latency_ms: attempt.latencyMs,
  });
  if (delivered) {
    // Only a failing subscription has anything to clear: a healthy one is not written on every delivery.
    if (subscription.failing_since !== null) await markSucceeding(db, subscription.id);
    return `delivered: ${answered}`;
  }
  if (answered === 410) {
    await disable(db, subscription.organization_id, subscription.id, 'The receiver answered 410 Gone.');
    return 'done: the receiver answered 410, the webhook is disabled';
  }
  const failingSince = (await markFailing(db, subscription.id)) ?? now;
  if (now.getTime() - new Date(failingSince).getTime() >= DISABLE_AFTER_FAILING_MS * settings.scale) {
    await disable(db, subscription.organization_id, subscription.id, 'Deliveries failed for 5 days.');
    return 'done: deliveries failed for 5 days, the webhook is disabled';
  }
  const why = attempt.outcome === 'answered' ? `the receiver answered ${answered}` : attempt.error;
  const wait = webhookRetryDelayMs(attempts, settings.scale);
  throw new ScheduledRetryError(`Webhook delivery failed: ${why}`, wait ?? 0, wait === undefined);
}
