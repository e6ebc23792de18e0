import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../effects/support/wait.js';
import { databaseKinds } from '../support/databases.js';
import { addRep } from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/service.js';

/**
 * A receiver that answers 204 and counts the TCP connections it accepted and the events it got (by target). With
 * `dropKept`, the first request that comes on a connection used before is cut without an answer, as a receiver's
 * idle time-out closing the connection just as the request goes out would.
 */
function receiverOn(
  port: number,
  options: { dropKept?: boolean } = {},
): Promise<{ server: Server; connections: number; targets: string[]; dropped: number }> {
  const state = {
    server: undefined as unknown as Server,
    connections: 0,
    targets: [] as string[],
    dropped: 0,
  };
  const used = new WeakSet<object>();
  state.server = createServer((request, response) => {
    if (options.dropKept && state.dropped === 0 && used.has(request.socket)) {
      state.dropped++;
      request.socket.destroy();
      return;
    }
    used.add(request.socket);
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        data: { targets: { id: string }[] };
      };
      state.targets.push(event.data.targets[0]?.id ?? '');
      response.writeHead(204).end();
    });
  });
  state.server.on('connection', () => {
    state.connections++;
  });
  return new Promise((resolve) => state.server.listen(port, '127.0.0.1', () => resolve(state)));
}

const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

describe.each(databaseKinds)('webhook connections kept alive on %s', (kind) => {
  let service: TestService;
  let admin: string;
  let subscriptionId: string;

  beforeAll(async () => {
    service = await startTestService(
      kind,
      { WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true', EFFECTS_POLL_MS: '20' },
      { runEffects: true },
    );
  }, 120_000);
  afterAll(async () => {
    await service?.close();
  });

  const subscribe = async (port: number) => {
    const organization = await service.createOrganization();
    admin = await service.token(organization, 'admin_connections', ['Admin']);
    const subscribed = await service.call('POST', '/api/organizations/webhooks', admin, {
      url: `http://127.0.0.1:${port}/hooks`,
      eventTypes: ['sales_rep.created'],
    });
    expect(subscribed.statusCode).toBe(201);
    subscriptionId = (subscribed.json() as { id: string }).id;
  };
  const delivered = async (receiver: { targets: string[] }) => {
    const rep = await addRep(service, admin);
    await eventually(() => expect(receiver.targets).toContain(rep.organizationSalesRepId));
  };

  /** The subscription's delivery log once it says this (an attempt is logged just after it arrived). */
  const attemptsLogged = (outcomes: string[]) =>
    eventually(async () => {
      const log = await service.call(
        'GET',
        `/api/organizations/webhooks/${subscriptionId}/deliveries`,
        admin,
      );
      expect((log.json() as { outcome: string }[]).map((attempt) => attempt.outcome)).toEqual(outcomes);
    });

  it('deliveries to one receiver, one after another, share one connection', async () => {
    const receiver = await receiverOn(0);
    try {
      await subscribe((receiver.server.address() as AddressInfo).port);
      for (let n = 0; n < 5; n++) await delivered(receiver);
      expect(receiver.targets).toHaveLength(5);
      expect(receiver.connections).toBe(1);
    } finally {
      await closeServer(receiver.server);
    }
  });

  it('a receiver that restarts between deliveries gets the next one at its first attempt, no failure logged', async () => {
    const first = await receiverOn(0);
    const port = (first.server.address() as AddressInfo).port;
    await subscribe(port);
    await delivered(first);
    // The kept connection is gone with the receiver; the next delivery must not fail on it.
    await closeServer(first.server);
    const second = await receiverOn(port);
    try {
      await delivered(second);
      await attemptsLogged(['delivered', 'delivered']);
    } finally {
      await closeServer(second.server);
    }
  });

  it('a kept connection cut as a delivery goes out: the delivery is sent again on a new one, no failure logged', async () => {
    const receiver = await receiverOn(0, { dropKept: true });
    try {
      await subscribe((receiver.server.address() as AddressInfo).port);
      await delivered(receiver);
      await delivered(receiver);
      expect(receiver.dropped).toBe(1);
      expect(receiver.connections).toBe(2);
      await attemptsLogged(['delivered', 'delivered']);
    } finally {
      await closeServer(receiver.server);
    }
  });
});
