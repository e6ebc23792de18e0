import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedDelivery {
  path: string;
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  /** What the receiver answered. */
  status: number;
}

/**
 * A real HTTP receiver of event webhooks. It records every POST with its headers and body, and answers what `plan`
 * says for each (in order; then `otherwise`): a status, or `hang` (no answer for `hangMs`); 503 for `failTarget`'s.
 */
export async function startReceiver() {
  const received: ReceivedDelivery[] = [];
  const state = {
    plan: [] as (number | 'hang')[],
    otherwise: 204 as number,
    hangMs: 3000,
    /** Answered 503 whatever the plan: events whose first target has this id. */
    failTarget: undefined as string | undefined,
  };
  const server = createServer((request, response) => {
    void readBody(request).then(async (body) => {
      const target = (JSON.parse(body) as { data?: { targets?: { id: string }[] } }).data?.targets?.[0]?.id;
      const next =
        target !== undefined && target === state.failTarget ? 503 : (state.plan.shift() ?? state.otherwise);
      const delivery = {
        path: request.url ?? '',
        id: String(request.headers['webhook-id']),
        timestamp: String(request.headers['webhook-timestamp']),
        signature: String(request.headers['webhook-signature']),
        body,
        status: next === 'hang' ? 0 : next,
      };
      received.push(delivery);
      if (next === 'hang') {
        await new Promise((resolve) => setTimeout(resolve, state.hangMs));
        response.writeHead(204).end();
        return;
      }
      response.writeHead(next).end(next >= 400 ? 'not now' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}/hooks`,
    received,
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
