// A real HTTP receiver of the service's webhooks (event webhooks and data sync), scripted by the test.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** A request as it reached the receiver: its path, its Standard Webhooks headers, its body and the answer. */
interface ReceivedDelivery {
  path: string;
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  /** What the receiver answered (0 while it held the request unanswered). */
  status: number;
}

/** A delivery the receiver verified and acknowledged, parsed. */
interface ReceivedWebhook {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

/** A Standard Webhooks secret for a test. */
export const TEST_WEBHOOK_SECRET = `whsec_${Buffer.from('a test secret of thirty-two bytes!').toString('base64')}`;

export interface ReceiverOptions {
  /** Verify each request's signature with this secret and answer 401 to a bad one (nothing verified without). */
  secret?: string;
  /** The path of `url` (/hooks by default). */
  path?: string;
}

/**
 * A real HTTP receiver. It records every POST with its headers and body (`received`), and the verified, acknowledged
 * ones parsed (`deliveries`). It answers 503 while `down`, for a sales rep (or `type:salesRepId`) in `failFor` (the
 * answer quotes the rep's email and a phone number, as real receivers' errors do), or for an event whose first
 * target is `failTarget`; otherwise what `plan` says for each request in order (a status, or `hang`: no answer for
 * `hangMs`), then `otherwise`. It holds the answer for an email in `delayFor` that many ms, and counts the requests it
 * holds at once (`maxInFlight`).
 */
export async function startReceiver(options: ReceiverOptions = {}) {
  const verifier = options.secret ? new Webhook(options.secret) : undefined;
  const received: ReceivedDelivery[] = [];
  const deliveries: ReceivedWebhook[] = [];
  const state = {
    plan: [] as (number | 'hang')[],
    otherwise: 204 as number,
    hangMs: 3000,
    failTarget: undefined as string | undefined,
    down: false,
    failFor: new Set<string>(),
    delayFor: new Map<string, number>(),
    rejectedSignatures: 0,
    inFlight: 0,
    maxInFlight: 0,
  };
  const server = createServer((request, response) => {
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    response.on('close', () => state.inFlight--);
    void readBody(request).then(async (body) => {
      const headers = {
        'webhook-id': String(request.headers['webhook-id']),
        'webhook-timestamp': String(request.headers['webhook-timestamp']),
        'webhook-signature': String(request.headers['webhook-signature']),
      };
      const delivery: ReceivedDelivery = {
        path: request.url ?? '',
        id: headers['webhook-id'],
        timestamp: headers['webhook-timestamp'],
        signature: headers['webhook-signature'],
        body,
        status: 0,
      };
      received.push(delivery);
      let event: ReceivedWebhook;
      try {
        event = (verifier ? verifier.verify(body, headers) : JSON.parse(body)) as ReceivedWebhook;
      } catch {
        state.rejectedSignatures++;
        delivery.status = 401;
        response.writeHead(401).end();
        return;
      }
      const rep = String(event.data?.salesRepId);
      const delayMs = state.delayFor.get(String(event.data?.email));
      if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
      const target = (event.data?.targets as { id: string }[] | undefined)?.[0]?.id;
      if (state.down || state.failFor.has(rep) || state.failFor.has(`${event.type}:${rep}`)) {
        delivery.status = 503;
        response.writeHead(503).end(`could not update ${String(event.data?.email)}; call +1 (555) 010-2030`);
        return;
      }
      const next =
        target !== undefined && target === state.failTarget ? 503 : (state.plan.shift() ?? state.otherwise);
      if (next === 'hang') {
        await new Promise((resolve) => setTimeout(resolve, state.hangMs));
        response.writeHead(204).end();
        return;
      }
      delivery.status = next;
      if (next >= 200 && next < 300) {
        deliveries.push({ id: headers['webhook-id'], type: event.type, data: event.data });
      }
      response.writeHead(next).end(next >= 400 ? 'not now' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}${options.path ?? '/hooks'}`,
    received,
    deliveries,
    state,
    /** The deliveries the receiver acknowledged with a 2xx. */
    acknowledged: () => received.filter((delivery) => delivery.status >= 200 && delivery.status < 300),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}
