import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../effects/support/wait.js';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../support/databases.js';
import { addRep } from '../support/fixtures.js';
import { startReceiver } from '../support/receiver.js';
import { startTestService, type TestService } from '../support/service.js';

/** A poll of a second: without the wake-up a new effect waits up to this long. */
const POLL_MS = 1000;
/** The poll of a replica that must hear of other replicas' changes: far longer than any wait the tests allow. */
const LONG_POLL_MS = 30_000;

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

// PostgreSQL only: the embedded database is one process, whose worker the change itself wakes (above).
if (databaseKinds.includes('postgres'))
  describe('replicas woken at commit through LISTEN/NOTIFY on PostgreSQL', () => {
    // Replica A answers the changes and runs no worker; replica B runs the only worker, polling every 30 s: whatever B
    // carries out within seconds, a notification told it of.
    let database: TestDatabase;
    let replicaA: TestService;
    let replicaB: TestService;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    let admin: string;

    beforeAll(async () => {
      database = await openTestDatabase('postgres');
      const env = { WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true', EFFECTS_POLL_MS: String(LONG_POLL_MS) };
      replicaA = await startTestService(database, env);
      replicaB = await startTestService(
        database,
        { ...env, DATABASE_URL: database.url ?? '' },
        { runEffects: true },
      );
      receiver = await startReceiver();
      const organization = await replicaA.createOrganization();
      admin = await replicaA.token(organization, 'admin_replicas', ['Admin']);
      const subscribed = await replicaA.call('POST', '/api/organizations/webhooks', admin, {
        url: receiver.url,
        eventTypes: ['sales_rep.created'],
      });
      expect(subscribed.statusCode).toBe(201);
    }, 120_000);
    afterAll(async () => {
      await receiver?.close();
      await replicaA?.close();
      await replicaB?.close();
      await database?.close();
    });

    /** Adds a rep through replica A and answers how long its webhook took to arrive from replica B. */
    async function deliveredAfterMs(timeoutMs: number): Promise<number> {
      const rep = await addRep(replicaA, admin);
      const committed = performance.now();
      await eventually(
        () =>
          expect(
            receiver.received.some((delivery) => delivery.body.includes(rep.organizationSalesRepId)),
          ).toBe(true),
        timeoutMs,
      );
      return performance.now() - committed;
    }

    /** Ends the listening connection of replica B as a network failure or a database restart would. */
    async function cutListener(): Promise<number> {
      const cut = await database.db.executeQuery<{ pid: number }>(
        sql`select pg_terminate_backend(pid), pid from pg_stat_activity
          where application_name = 'salesreps listener' and datname = current_database()`.compile(
          database.db,
        ),
      );
      return cut.rows.length;
    }

    const listenerConnected = () =>
      eventually(async () => {
        const found = await database.db.executeQuery<{ n: number }>(
          sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
          where application_name = 'salesreps listener' and datname = current_database()
            and query ilike 'listen%'`.compile(database.db),
        );
        expect(found.rows[0]?.n).toBe(1);
      });

    it('a change made through one replica is carried out by another at its commit, long before that one polls', async () => {
      await listenerConnected();
      for (let round = 0; round < 3; round++) {
        expect(await deliveredAfterMs(10_000)).toBeLessThan(2000);
      }
    }, 60_000);

    it('a lost listening connection is opened again: a change made while it was down, and one after, arrive long before the poll', async () => {
      await listenerConnected();
      expect(await cutListener()).toBe(1);
      // Made as the connection is down: the reconnected listener looks for what it may have missed.
      expect(await deliveredAfterMs(10_000)).toBeLessThan(5000);
      await listenerConnected();
      expect(await deliveredAfterMs(10_000)).toBeLessThan(2000);
    }, 60_000);
  });
