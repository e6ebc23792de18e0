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
 * 401), records every verified delivery, and answers 503 while `down`, or for a sales rep (or `type:salesRepId`) in `failFor`.
 */
export async function startWebhookReceiver(secret: string) {
  const verifier = new Webhook(secret);
  const deliveries: ReceivedWebhook[] = [];
  const state = { down: false, failFor: new Set<string>(), rejectedSignatures: 0 };
  const server = createServer((request, response) => {
    void readBody(request).then((body) => {
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
      if (state.down || state.failFor.has(rep) || state.failFor.has(`${event.type}:${rep}`)) {
        response.writeHead(503).end('down');
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
