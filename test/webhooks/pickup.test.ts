import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../effects/support/wait.js';
import { databaseKinds } from '../support/databases.js';
import { addRep } from '../support/fixtures.js';
import { startReceiver } from '../support/receiver.js';
import { startTestService, type TestService } from '../support/service.js';

/** The longest poll the configuration allows: without the wake-up a new effect waits up to this long. */
const POLL_MS = 1000;

describe.each(databaseKinds)('effects picked up at commit on %s', (kind) => {
  let service: TestService;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  beforeAll(async () => {
    service = await startTestService(
      kind,
      { WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true', EFFECTS_POLL_MS: String(POLL_MS) },
      { runEffects: true },
    );
    receiver = await startReceiver();
  }, 120_000);
  afterAll(async () => {
    await receiver?.close();
    await service?.close();
  });

  it('a change wakes the worker of the process that answered it: each webhook arrives well within the poll', async () => {
    const organization = await service.createOrganization();
    const admin = await service.token(organization, 'admin_pickup', ['Admin']);
    const subscribed = await service.call('POST', '/api/organizations/webhooks', admin, {
      url: receiver.url,
      eventTypes: ['sales_rep.created'],
    });
    expect(subscribed.statusCode).toBe(201);
    const latencies: number[] = [];
    for (let round = 0; round < 5; round++) {
      // A random moment in the worker's poll cycle: only a wake-up makes every delivery quick.
      await sleep(Math.random() * POLL_MS);
      const rep = await addRep(service, admin);
      const committed = performance.now();
      await eventually(() =>
        expect(receiver.received.some((delivery) => delivery.body.includes(rep.organizationSalesRepId))).toBe(
          true,
        ),
      );
      latencies.push(performance.now() - committed);
    }
    // Polled, five deliveries would each wait 0–1000 ms (all five under 600 ms: about 1 time in 13).
    expect(Math.max(...latencies), `latencies ${latencies.map(Math.round).join(', ')} ms`).toBeLessThan(600);
  }, 60_000);
});
