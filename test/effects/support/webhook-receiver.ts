import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedWebhook {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

/**
 * A data-sync receiver that verifies each POST as the Standard Webhooks specification says (a bad signature is
 * 401), records every verified delivery, and answers 503 while `down`, or for a sales rep (or `type:salesRepId`) in
 * `failFor` (the answer quotes the rep's email and a phone number, as real receivers' errors do). It holds the
 * answer for an email in `delayFor` (grants carry it) that many ms, and counts the requests it holds at once (`maxInFlight`).
 */
export async function startWebhookReceiver(secret: string) {
  const verifier = new Webhook(secret);
  const deliveries: ReceivedWebhook[] = [];
  const state = {
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
      let event: { type: string; data: Record<string, unknown> };
      try {
        event = verifier.verify(body, {
          'webhook-id': String(request.headers['webhook-id']),
          'webhook-timestamp': String(request.headers['webhook-timestamp']),
          'webhook-signature': String(request.headers['webhook-signature']),
        }) as typeof event;
      } catch {
        state.rejectedSignatures++;
        response.writeHead(401).end();
        return;
      }
      const rep = String(event.data.salesRepId);
      const delayMs = state.delayFor.get(String(event.data.email));
      if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (state.down || state.failFor.has(rep) || state.failFor.has(`${event.type}:${rep}`)) {
        response.writeHead(503).end(`could not update ${String(event.data.email)}; call +1 (555) 010-2030`);
        return;
      }
      deliveries.push({ id: String(request.headers['webhook-id']), type: event.type, data: event.data });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/sync`,
    deliveries,
    state,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
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

/** A Standard Webhooks secret for a test. */
export const TEST_WEBHOOK_SECRET = `whsec_${Buffer.from('a test secret of thirty-two bytes!').toString('base64')}`;
