import { sql } from 'kysely';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { createEffects, type Effects } from '../../src/effects/runtime.js';
import { eventually } from '../effects/support/wait.js';
import { allEvents } from '../events/support.js';
import { databaseKinds } from '../support/databases.js';
import { addRep, expectProblem, REPS_URL } from '../support/fixtures.js';
import { startReceiver } from '../support/receiver.js';
import { startTestService, type TestService } from '../support/service.js';
import { deliveryCheck } from '../support/webhook-document.js';

const WEBHOOKS_URL = '/api/organizations/webhooks';
/** Fast effect timings: the retry schedule scaled by 1 / 1000 (5 s → 5 ms, 5 min → 300 ms), a 500 ms time-out. */
const FAST = {
  WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true',
  EFFECTS_RETRY_BASE_MS: '1',
  EFFECTS_POLL_MS: '20',
  EFFECTS_CALL_TIMEOUT_MS: '500',
  // Long enough that a loaded machine never lets a lease lapse mid-delivery (then another replica would take the
  // effect over, as it must after a crash, and deliver it again).
  EFFECTS_LEASE_MS: '15000',
};

interface Created {
  id: string;
  url: string;
  eventTypes: string[] | null;
  secret: string;
}

describe.each(databaseKinds)('event webhooks on %s', (kind) => {
  let service: TestService;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const workers: Effects[] = [];
  let organization: Organization;
  let admin: string;

  beforeAll(async () => {
    service = await startTestService(kind, FAST);
    receiver = await startReceiver();
  }, 120_000);
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.close()));
    // Effects a test left undone (its deliveries, and its reps' mails and provisioning) are not the next test's work.
    await service.db.deleteFrom('effect').where('status', '=', 'pending').execute();
    receiver.received.length = 0;
    receiver.state.plan = [];
    receiver.state.otherwise = 204;
    receiver.state.failTarget = undefined;
  });
  afterAll(async () => {
    await receiver?.close();
    await service?.close();
  });

  /** A fresh organization with its admin, so that tests never share subscriptions. */
  const freshOrganization = async () => {
    organization = await service.createOrganization();
    admin = await service.token(organization, 'admin_hooks', ['Admin']);
  };
  /** Starts one effect worker (a replica's), as every process runs one. */
  const startWorker = () => {
    const effects = createEffects(service.config, service.db);
    effects.start(service.app.log);
    workers.push(effects);
  };
  const subscribe = async (body: object = { url: receiver.url }): Promise<Created> => {
    const response = await service.call('POST', WEBHOOKS_URL, admin, body);
    expect(response.statusCode, response.body).toBe(201);
    return response.json() as Created;
  };
  const deliveries = async (id: string) => {
    const response = await service.call('GET', `${WEBHOOKS_URL}/${id}/deliveries`, admin);
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as {
      eventId: string;
      outcome: string;
      statusCode: number | null;
      latencyMs: number;
    }[];
  };

  it('delivers each event signed as Standard Webhooks say, the event id as webhook-id; the secret is shown only once', async () => {
    await freshOrganization();
    const created = await subscribe();
    expect(created).toEqual({
      id: expect.stringMatching(/^[0-9A-Za-z]{22}$/),
      url: receiver.url,
      eventTypes: null,
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
    });
    const listed = await service.call('GET', WEBHOOKS_URL, admin);
    expect(listed.json()).toEqual([
      {
        id: created.id,
        url: receiver.url,
        eventTypes: null,
        enabled: true,
        disabledReason: null,
        createdAt: expect.any(String),
      },
    ]);
    expect(listed.body).not.toContain('whsec_');

    startWorker();
    const rep = await addRep(service, admin);
    const [event] = await allEvents(service, admin, '&action=sales_rep.created');
    await eventually(() =>
      expect(receiver.acknowledged().map((delivery) => delivery.id)).toContain(event?.id),
    );
    const delivery = receiver.received.find((candidate) => candidate.id === event?.id);
    const verified = new Webhook(created.secret).verify(delivery?.body ?? '', {
      'webhook-id': delivery?.id ?? '',
      'webhook-timestamp': delivery?.timestamp ?? '',
      'webhook-signature': delivery?.signature ?? '',
    });
    expect(verified).toEqual({
      type: 'sales_rep.created',
      timestamp: expect.any(String),
      data: {
        ...event,
        targets: [
          { type: 'organization_sales_rep', id: rep.organizationSalesRepId },
          { type: 'sales_rep', id: rep.salesRepId },
        ],
      },
    });
    expect(() =>
      new Webhook(`whsec_${Buffer.from('another secret, not this one').toString('base64')}`).verify(
        delivery?.body ?? '',
        {
          'webhook-id': delivery?.id ?? '',
          'webhook-timestamp': delivery?.timestamp ?? '',
          'webhook-signature': delivery?.signature ?? '',
        },
      ),
    ).toThrow();
    // The attempt is logged once the receiver's answer is in.
    await eventually(async () =>
      expect((await deliveries(created.id)).find((entry) => entry.eventId === event?.id)).toMatchObject({
        outcome: 'delivered',
        statusCode: 204,
      }),
    );
  });

  it('records webhook.created with real changes only: eventTypes only when the webhook was given some', async () => {
    await freshOrganization();
    const every = await subscribe();
    const some = await subscribe({ url: receiver.url, eventTypes: ['sales_rep.created'] });
    const changesOf = async (id: string) =>
      (await allEvents(service, admin, `&action=webhook.created&targetId=${id}`)).map(
        (event) => event.changes,
      );
    expect(await changesOf(every.id)).toEqual([{ url: { from: null, to: receiver.url } }]);
    expect(await changesOf(some.id)).toEqual([
      { url: { from: null, to: receiver.url }, eventTypes: { from: null, to: ['sales_rep.created'] } },
    ]);
  });

  it("delivers what the document's webhooks.eventDelivery declares: its payload schema and its webhook-* headers", async () => {
    await freshOrganization();
    await subscribe();
    startWorker();
    await addRep(service, admin);
    await eventually(() => expect(receiver.acknowledged().length).toBeGreaterThanOrEqual(2));
    const check = deliveryCheck(service.app.swagger(), 'eventDelivery');
    expect(receiver.received.length).toBeGreaterThanOrEqual(2);
    for (const delivery of receiver.received) expect(check(delivery), delivery.body).toEqual([]);
  });

  it('sends only the actions a subscription asked for', async () => {
    await freshOrganization();
    await subscribe({ url: receiver.url, eventTypes: ['sales_rep.deactivated'] });
    startWorker();
    const rep = await addRep(service, admin);
    await service.call('POST', `${REPS_URL}/deactivate`, admin, {
      organizationSalesRepId: rep.organizationSalesRepId,
    });
    const [deactivated] = await allEvents(service, admin, '&action=sales_rep.deactivated');
    await eventually(() =>
      expect(receiver.acknowledged().map((delivery) => delivery.id)).toEqual([deactivated?.id]),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.received.map((delivery) => JSON.parse(delivery.body).type)).toEqual([
      'sales_rep.deactivated',
    ]);
  });

  it("retries failures and time-outs with the same webhook-id until acknowledged, a rep's events in order", async () => {
    await freshOrganization();
    const created = await subscribe({
      url: receiver.url,
      eventTypes: ['sales_rep.created', 'sales_rep.deactivated'],
    });
    receiver.state.plan = [503, 'hang', 500];
    receiver.state.hangMs = 1500;
    const rep = await addRep(service, admin);
    await service.call('POST', `${REPS_URL}/deactivate`, admin, {
      organizationSalesRepId: rep.organizationSalesRepId,
    });
    const [second, first] = await allEvents(service, admin);
    startWorker();
    await eventually(
      () => expect(receiver.acknowledged().map((delivery) => delivery.id)).toEqual([first?.id, second?.id]),
      30_000,
    );
    // The first event held the second back through its three failures: each attempt carried its one webhook-id.
    expect(receiver.received.map((delivery) => delivery.id)).toEqual([
      first?.id,
      first?.id,
      first?.id,
      first?.id,
      second?.id,
    ]);
    // The receiver's answer goes out before the worker writes the attempt to the log.
    const log = await eventually(async () => {
      const entries = await deliveries(created.id);
      expect(entries.map((entry) => entry.outcome)).toEqual([
        'delivered',
        'delivered',
        'failed',
        'timed-out',
        'failed',
      ]);
      return entries;
    }, 10_000);
    expect(log[3]?.latencyMs).toBeGreaterThanOrEqual(450);
  });

  it('the delivery log keeps the newest 100 attempts of a webhook, the attempt just made among them', async () => {
    await freshOrganization();
    const created = await subscribe({ url: receiver.url, eventTypes: ['sales_rep.created'] });
    await service.db
      .insertInto('webhook_delivery')
      .values(
        Array.from({ length: 100 }, (_, index) => ({
          subscription_id: created.id,
          event_id: `older${index}`,
          outcome: 'delivered',
          status_code: 204,
          latency_ms: 1,
        })),
      )
      .execute();
    startWorker();
    await addRep(service, admin);
    const [event] = await allEvents(service, admin, '&action=sales_rep.created');
    await eventually(async () => expect((await deliveries(created.id))[0]?.eventId).toBe(event?.id));
    const kept = await service.db
      .selectFrom('webhook_delivery')
      .select('event_id')
      .where('subscription_id', '=', created.id)
      .orderBy('id')
      .execute();
    expect(kept.map((row) => row.event_id)).toEqual([
      ...Array.from({ length: 99 }, (_, index) => `older${index + 1}`),
      event?.id,
    ]);
  });

  it("one rep's failing deliveries hold back that rep's later events only, never another rep's", async () => {
    await freshOrganization();
    await subscribe({ url: receiver.url, eventTypes: ['sales_rep.created', 'sales_rep.deactivated'] });
    const failing = await addRep(service, admin);
    receiver.state.failTarget = failing.organizationSalesRepId;
    await service.call('POST', `${REPS_URL}/deactivate`, admin, {
      organizationSalesRepId: failing.organizationSalesRepId,
    });
    const other = await addRep(service, admin);
    startWorker();
    const [otherCreated] = await allEvents(service, admin, `&targetId=${other.organizationSalesRepId}`);
    await eventually(() =>
      expect(receiver.acknowledged().map((delivery) => delivery.id)).toEqual([otherCreated?.id]),
    );
    // The failing rep's creation is retried; its deactivation waits behind it, unsent.
    const [deactivated] = await allEvents(service, admin, '&action=sales_rep.deactivated');
    expect(receiver.received.map((delivery) => delivery.id)).not.toContain(deactivated?.id);
    receiver.state.failTarget = undefined;
    await eventually(
      () => expect(receiver.acknowledged().map((delivery) => delivery.id)).toContain(deactivated?.id),
      20_000,
    );
  });

  it('a 410 answer disables the subscription, with an event by the service saying so; nothing more is sent', async () => {
    await freshOrganization();
    const created = await subscribe({
      url: receiver.url,
      eventTypes: ['sales_rep.created', 'sales_rep.deactivated'],
    });
    receiver.state.plan = [410];
    startWorker();
    const rep = await addRep(service, admin);
    await eventually(async () => {
      const [listed] = (await service.call('GET', WEBHOOKS_URL, admin)).json() as { enabled: boolean }[];
      expect(listed).toMatchObject({ enabled: false, disabledReason: expect.stringContaining('410') });
    });
    const [disabled] = await allEvents(service, admin, '&action=webhook.disabled');
    expect(disabled).toMatchObject({
      actor: { type: 'system', id: 'salesreps' },
      targets: [{ type: 'webhook', id: created.id }],
    });
    await service.call('POST', `${REPS_URL}/deactivate`, admin, {
      organizationSalesRepId: rep.organizationSalesRepId,
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.received).toHaveLength(1);
  });

  it('a subscription failing for 5 days is disabled with an event', async () => {
    await freshOrganization();
    const created = await subscribe({ url: receiver.url, eventTypes: ['sales_rep.created'] });
    receiver.state.otherwise = 503;
    await addRep(service, admin);
    // Its deliveries have failed since 6 days ago (the schedule is scaled in this test, the clock is not).
    await service.db
      .updateTable('webhook_subscription')
      .set({ failing_since: sql<Date>`now() - interval '6 days'` })
      .where('id', '=', created.id)
      .execute();
    startWorker();
    await eventually(async () => {
      const [disabled] = await allEvents(service, admin, '&action=webhook.disabled');
      expect(disabled?.changes.disabledReason?.to).toBe('Deliveries failed for 5 days.');
    });
    expect(receiver.received).toHaveLength(1);
  });

  it('after a rotation, deliveries carry signatures by the new secret and by the previous one', async () => {
    await freshOrganization();
    const created = await subscribe();
    const rotated = await service.call('POST', `${WEBHOOKS_URL}/${created.id}/rotate-secret`, admin);
    expect(rotated.statusCode, rotated.body).toBe(200);
    const { secret } = rotated.json() as { secret: string };
    expect(secret).not.toBe(created.secret);
    startWorker();
    await addRep(service, admin);
    await eventually(() => expect(receiver.acknowledged().length).toBeGreaterThanOrEqual(1));
    const [delivery] = receiver.acknowledged();
    const headers = {
      'webhook-id': delivery?.id ?? '',
      'webhook-timestamp': delivery?.timestamp ?? '',
      'webhook-signature': delivery?.signature ?? '',
    };
    expect(delivery?.signature.split(' ')).toHaveLength(2);
    for (const key of [secret, created.secret]) {
      expect(new Webhook(key).verify(delivery?.body ?? '', headers)).toMatchObject({
        data: { id: delivery?.id },
      });
    }
  });

  it("another organization's admin sees, reads and deletes none of them; the owner deletes one", async () => {
    await freshOrganization();
    const created = await subscribe();
    const stranger = await service.createOrganization('Elsewhere');
    const strangerAdmin = await service.token(stranger, 'stranger', ['Admin']);
    expect((await service.call('GET', WEBHOOKS_URL, strangerAdmin)).json()).toEqual([]);
    expectProblem(await service.call('DELETE', `${WEBHOOKS_URL}/${created.id}`, strangerAdmin), 404);
    expectProblem(await service.call('GET', `${WEBHOOKS_URL}/${created.id}/deliveries`, strangerAdmin), 404);
    expectProblem(
      await service.call('POST', `${WEBHOOKS_URL}/${created.id}/rotate-secret`, strangerAdmin),
      404,
    );
    const rep = await addRep(service, admin);
    const repToken = await service.token(organization, rep.identityProviderUserId, ['SalesRep']);
    expectProblem(await service.call('GET', WEBHOOKS_URL, repToken), 403);

    const deleted = await service.call('DELETE', `${WEBHOOKS_URL}/${created.id}`, admin);
    expect(deleted.statusCode, deleted.body).toBe(200);
    expect((await service.call('GET', WEBHOOKS_URL, admin)).json()).toEqual([]);
    expectProblem(await service.call('DELETE', `${WEBHOOKS_URL}/${created.id}`, admin), 404);
    expect(
      (await allEvents(service, admin, '&action=webhook.deleted')).map((event) => event.targets),
    ).toEqual([[{ type: 'webhook', id: created.id }]]);
  });

  it('two replicas racing deliver every event once', async () => {
    await freshOrganization();
    await subscribe({ url: receiver.url, eventTypes: ['sales_rep.created'] });
    startWorker();
    startWorker();
    const reps = await Promise.all(Array.from({ length: 12 }, () => addRep(service, admin)));
    const expected = (await allEvents(service, admin)).filter(
      (event) => event.action === 'sales_rep.created',
    );
    expect(expected).toHaveLength(reps.length);
    await eventually(
      () => expect(new Set(receiver.acknowledged().map((delivery) => delivery.id)).size).toBe(reps.length),
      20_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.received.map((delivery) => delivery.id).sort()).toEqual(
      expected.map((event) => event.id).sort(),
    );
  });

  it('refuses a bad body with 400 naming the field', async () => {
    await freshOrganization();
    for (const [body, field] of [
      [{}, 'url'],
      [{ url: 'not a url' }, 'url'],
      [{ url: 'ftp://files.example.com/x' }, 'url'],
      [{ url: receiver.url, eventTypes: ['sales_rep.exploded'] }, 'eventTypes[0]'],
      [{ url: receiver.url, eventTypes: [] }, 'eventTypes'],
      [{ url: receiver.url, extra: true }, 'extra'],
    ] as const) {
      expectProblem(await service.call('POST', WEBHOOKS_URL, admin, body), 400, [field]);
    }
  });
});

describe.each(databaseKinds)('webhook URLs that could reach inside the network, on %s', (kind) => {
  let service: TestService;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let effects: Effects | undefined;
  beforeAll(async () => {
    service = await startTestService(kind, { ...FAST, WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'false' });
    receiver = await startReceiver();
  }, 120_000);
  afterAll(async () => {
    await effects?.close();
    await receiver?.close();
    await service?.close();
  });

  it('refuses http, and loopback, private, link-local and metadata addresses (IPv4 and IPv6), also behind a name, with 400', async () => {
    const organization = await service.createOrganization();
    const admin = await service.token(organization, 'admin_ssrf', ['Admin']);
    for (const url of [
      receiver.url,
      'http://hooks.example.com/x',
      'https://127.0.0.1/x',
      'https://127.1.2.3:8443/x',
      'https://2130706433/x',
      'https://0.0.0.0/x',
      'https://10.1.2.3/x',
      'https://172.16.0.1/x',
      'https://192.168.1.1/x',
      'https://100.64.0.1/x',
      'https://169.254.169.254/latest/meta-data/',
      'https://[::1]/x',
      'https://[::ffff:127.0.0.1]/x',
      'https://[::ffff:a9fe:a9fe]/x',
      'https://[fe80::1]/x',
      'https://[fd00:ec2::254]/x',
      'https://[fc00::1]/x',
      'https://localhost/x',
      'https://api.localhost/x',
      'https://intranet/x',
      'https://user:pass@hooks.example.com/x',
    ]) {
      expectProblem(await service.call('POST', WEBHOOKS_URL, admin, { url }), 400, ['url']);
    }
    const accepted = await service.call('POST', WEBHOOKS_URL, admin, {
      url: 'https://hooks.example.com/salesreps',
    });
    expect(accepted.statusCode, accepted.body).toBe(201);
  });

  it('refuses IPv6 forms that embed a forbidden IPv4 (compatible, SIIT, NAT64, 6to4) by the address they embed', async () => {
    const organization = await service.createOrganization();
    const admin = await service.token(organization, 'admin_embedded', ['Admin']);
    for (const url of [
      'https://[::127.0.0.1]/x',
      'https://[::7f00:1]/x',
      'https://[::ffff:0:7f00:1]/x',
      'https://[::ffff:0:a9fe:a9fe]/x',
      'https://[64:ff9b::7f00:1]/x',
      'https://[64:ff9b::10.0.0.1]/x',
      'https://[64:ff9b:1::7f00:1]/x',
      'https://[2002:7f00:1::]/x',
      'https://[2002:a9fe:a9fe::1]/x',
      'https://[2002:c0a8:101::]/x',
    ]) {
      expectProblem(await service.call('POST', WEBHOOKS_URL, admin, { url }), 400, ['url']);
    }
    // The same forms embedding a public address are judged by it.
    for (const url of ['https://[64:ff9b::808:808]/x', 'https://[2002:808:808::]/x']) {
      const accepted = await service.call('POST', WEBHOOKS_URL, admin, { url });
      expect(accepted.statusCode, `${url}: ${accepted.body}`).toBe(201);
    }
  });

  it('allows only ports 443 and 8443, so the delivery log cannot scan a public host', async () => {
    const organization = await service.createOrganization();
    const admin = await service.token(organization, 'admin_ports', ['Admin']);
    for (const url of ['https://hooks.example.com:22/x', 'https://hooks.example.com:6379/x']) {
      expectProblem(await service.call('POST', WEBHOOKS_URL, admin, { url }), 400, ['url']);
    }
    for (const url of ['https://hooks.example.com:443/x', 'https://hooks.example.com:8443/x']) {
      const accepted = await service.call('POST', WEBHOOKS_URL, admin, { url });
      expect(accepted.statusCode, `${url}: ${accepted.body}`).toBe(201);
    }
  });

  it('checks the resolved address again at delivery: a name that resolves to 127.0.0.1 is refused, nothing is sent', async () => {
    const organization = await service.createOrganization();
    const admin = await service.token(organization, 'admin_rebind', ['Admin']);
    // As if the name had resolved to a public address when it was subscribed, and to 127.0.0.1 now.
    await service.db
      .insertInto('webhook_subscription')
      .values({
        id: 'rebindingSubscription01',
        organization_id: organization.id,
        url: `https://localhost:${receiver.port}/hooks`,
        event_types: null,
        secret: `whsec_${Buffer.from('a test secret of thirty-two bytes!').toString('base64')}`,
      })
      .execute();
    effects = createEffects(service.config, service.db);
    effects.start(service.app.log);
    await addRep(service, admin);
    await eventually(async () => {
      const response = await service.call('GET', `${WEBHOOKS_URL}/rebindingSubscription01/deliveries`, admin);
      expect((response.json() as { outcome: string }[])[0]).toMatchObject({ outcome: 'refused' });
    });
    expect(receiver.received).toEqual([]);
  });

  it('logs a delivery that reaches no receiver coarsely: no system error that tells hosts or ports apart', async () => {
    const organization = await service.createOrganization();
    const admin = await service.token(organization, 'admin_coarse', ['Admin']);
    await service.db
      .insertInto('webhook_subscription')
      .values({
        id: 'unresolvableSubscription1',
        organization_id: organization.id,
        url: 'https://no-such-host.invalid/hooks',
        event_types: null,
        secret: `whsec_${Buffer.from('a test secret of thirty-two bytes!').toString('base64')}`,
      })
      .execute();
    // The effect worker of the test before, or one of its own when this test runs alone.
    if (!effects) {
      effects = createEffects(service.config, service.db);
      effects.start(service.app.log);
    }
    await addRep(service, admin);
    const logged = await eventually(async () => {
      const response = await service.call(
        'GET',
        `${WEBHOOKS_URL}/unresolvableSubscription1/deliveries`,
        admin,
      );
      const [first] = response.json() as { outcome: string; error: string | null }[];
      expect(first).toBeDefined();
      return first as { outcome: string; error: string | null };
    });
    expect(logged).toEqual(
      expect.objectContaining({ outcome: 'failed', error: 'no connection to the receiver' }),
    );
  });
});
