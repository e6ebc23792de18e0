import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { databaseKinds } from '../support/databases.js';
import { addRep, CUSTOMERS_URL, EFFECTS_URL, expectProblem, REPS_URL } from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/service.js';
import { allEvents, EVENTS_URL, type EventBody, eventPage } from './support.js';

describe.each(databaseKinds)('the audit log on %s', (kind) => {
  let service: TestService;
  let organization: Organization;
  let admin: string;
  const ADMIN_USER = 'kinde_user_admin_events';

  beforeAll(async () => {
    service = await startTestService(kind);
    organization = await service.createOrganization();
    admin = await service.token(organization, ADMIN_USER, ['Admin']);
  }, 120_000);
  afterAll(async () => {
    await service?.close();
  });

  /** The events of the organization about one target, newest first. */
  const eventsOf = (targetId: string, token = admin) =>
    allEvents(service, token, `&targetId=${encodeURIComponent(targetId)}`);

  it('records every change of a rep with the actor, the targets, the request id and from/to changes', async () => {
    const put = await service.call('PUT', REPS_URL, admin, {
      firstName: 'Jane',
      lastName: 'Smith',
      email: 'jane.events@example.com',
      repNumber: 'EV-1',
    });
    expect(put.statusCode, put.body).toBe(200);
    const rep = put.json() as { organizationSalesRepId: string; salesRepId: string };
    const id = rep.organizationSalesRepId;
    const requests = [put.headers['x-request-id']];
    for (const [method, url, body] of [
      ['PATCH', REPS_URL, { organizationSalesRepId: id, repNumber: 'EV-2' }],
      ['POST', `${REPS_URL}/deactivate`, { organizationSalesRepId: id }],
      ['POST', `${REPS_URL}/activate`, { organizationSalesRepId: id }],
      ['DELETE', REPS_URL, { organizationSalesRepId: id }],
    ] as const) {
      const response = await service.call(method, url, admin, body);
      expect(response.statusCode, response.body).toBe(200);
      requests.push(response.headers['x-request-id']);
    }
    const events = await eventsOf(id);
    expect(events.map((event) => event.action)).toEqual([
      'sales_rep.removed',
      'sales_rep.activated',
      'sales_rep.deactivated',
      'sales_rep.rep_number_changed',
      'sales_rep.created',
    ]);
    for (const [index, event] of [...events].reverse().entries()) {
      expect(event).toMatchObject({
        actor: { type: 'user', id: ADMIN_USER },
        organizationId: organization.id,
        requestId: requests[index],
        targets: [
          { type: 'organization_sales_rep', id },
          { type: 'sales_rep', id: rep.salesRepId },
        ],
      });
      expect(Date.parse(event.occurredAt)).not.toBeNaN();
    }
    const [removed, activated, deactivated, renumbered, created] = events as [
      EventBody,
      EventBody,
      EventBody,
      EventBody,
      EventBody,
    ];
    expect(created.changes).toMatchObject({
      email: { from: null, to: 'jane.events@example.com' },
      repNumber: { from: null, to: 'EV-1' },
      active: { from: null, to: true },
    });
    expect(renumbered.changes).toEqual({ repNumber: { from: 'EV-1', to: 'EV-2' } });
    expect(deactivated.changes).toEqual({ active: { from: true, to: false } });
    expect(activated.changes).toEqual({ active: { from: false, to: true } });
    expect(removed.changes).toMatchObject({ repNumber: { from: 'EV-2', to: null } });
  });

  it('records nothing for a call that changes nothing: the same number again, a repeated deactivation', async () => {
    const rep = await addRep(service, admin, { repNumber: 'EV-SAME' });
    const id = rep.organizationSalesRepId;
    await service.call('PATCH', REPS_URL, admin, { organizationSalesRepId: id, repNumber: 'EV-SAME' });
    await service.call('POST', `${REPS_URL}/deactivate`, admin, { organizationSalesRepId: id });
    await service.call('POST', `${REPS_URL}/deactivate`, admin, { organizationSalesRepId: id });
    expect((await eventsOf(id)).map((event) => event.action)).toEqual([
      'sales_rep.deactivated',
      'sales_rep.created',
    ]);
  });

  it('records one event per customer of a bulk import, updates with the changed fields only, and deletes', async () => {
    const put = (body: unknown) => service.call('PUT', CUSTOMERS_URL, admin, body);
    expect(
      (
        await put([
          { customerNumber: 'EVC-1', companyName: 'Northwind' },
          { customerNumber: 'EVC-2', companyName: 'Contoso' },
          { customerNumber: 'EVC-3', companyName: 'Fabrikam' },
        ])
      ).statusCode,
    ).toBe(200);
    expect((await put({ customerNumber: 'EVC-1', companyName: 'Northwind Traders' })).statusCode).toBe(200);
    // Written as it is: no change, no event.
    expect((await put({ customerNumber: 'EVC-2', companyName: 'Contoso' })).statusCode).toBe(200);
    expect((await service.call('DELETE', `${CUSTOMERS_URL}/EVC-3`, admin)).statusCode).toBe(200);

    const created = await allEvents(service, admin, '&action=customer.created');
    // Each names its customer first; an import's name the import second (docs/events.md).
    expect(created.map((event) => event.targets[0])).toEqual(
      expect.arrayContaining([
        { type: 'customer', id: 'EVC-1' },
        { type: 'customer', id: 'EVC-2' },
        { type: 'customer', id: 'EVC-3' },
      ]),
    );
    expect(created.filter((event) => event.targets[0]?.id.startsWith('EVC-'))).toHaveLength(3);
    expect(new Set(created.map((event) => event.requestId)).size).toBe(1);
    expect((await eventsOf('EVC-1')).map((event) => [event.action, event.changes])).toEqual([
      ['customer.updated', { companyName: { from: 'Northwind', to: 'Northwind Traders' } }],
      ['customer.created', expect.objectContaining({ companyName: { from: null, to: 'Northwind' } })],
    ]);
    expect((await eventsOf('EVC-2')).map((event) => event.action)).toEqual(['customer.created']);
    const [deleted] = await eventsOf('EVC-3');
    expect(deleted).toMatchObject({
      action: 'customer.deleted',
      changes: { companyName: { from: 'Fabrikam', to: null } },
    });
  });

  it('records the retry of a dead effect', async () => {
    const rep = await addRep(service, admin, { repNumber: 'EV-EFFECT' });
    const dead = await service.db
      .updateTable('effect')
      .set({ status: 'dead', finished_at: new Date() })
      .where('sales_rep_id', '=', rep.salesRepId)
      .where('kind', '=', 'email.welcome')
      .returning(sql<string>`id::text`.as('id'))
      .executeTakeFirstOrThrow();
    const retried = await service.call('POST', `${EFFECTS_URL}/retry`, admin, { effectId: dead.id });
    expect(retried.statusCode, retried.body).toBe(200);
    expect(await eventsOf(dead.id)).toMatchObject([
      {
        action: 'effect.retried',
        actor: { type: 'user', id: ADMIN_USER },
        targets: [{ type: 'effect', id: dead.id }],
        changes: { status: { from: 'dead', to: 'pending' } },
      },
    ]);
  });

  it('records nothing for a change that fails, even one that fails after its event was written', async () => {
    const before = (await allEvents(service, admin)).length;
    const taken = await addRep(service, admin, { repNumber: 'EV-TAKEN' });
    const conflict = await service.call('PUT', REPS_URL, admin, {
      firstName: 'Other',
      lastName: 'Rep',
      email: 'other.taken@example.com',
      repNumber: 'EV-TAKEN',
    });
    expectProblem(conflict, 409);
    // A check deferred to the commit fails the deactivation after the assignment and its event are written.
    await sql`create function fail_at_commit() returns trigger language plpgsql as $$
      begin raise exception 'refused at commit'; end $$`.execute(service.db);
    await sql`create constraint trigger fail_deactivation after insert on event
      deferrable initially deferred for each row when (new.action = 'sales_rep.deactivated')
      execute function fail_at_commit()`.execute(service.db);
    try {
      const failed = await service.call('POST', `${REPS_URL}/deactivate`, admin, {
        organizationSalesRepId: taken.organizationSalesRepId,
      });
      expectProblem(failed, 500);
    } finally {
      await sql`drop trigger fail_deactivation on event`.execute(service.db);
      await sql`drop function fail_at_commit()`.execute(service.db);
    }
    const events = await allEvents(service, admin);
    expect(events.length).toBe(before + 1);
    expect(events[0]).toMatchObject({ action: 'sales_rep.created' });
    const reps = await service.call('GET', `${REPS_URL}?pageSize=100`, admin);
    expect(
      (reps.json() as { repNumber: string; active: boolean }[]).find((rep) => rep.repNumber === 'EV-TAKEN'),
    ).toMatchObject({ active: true });
  });

  it('pages newest first through the next link, exactly, while events are written between the pages', async () => {
    const other = await service.createOrganization('Paging Ltd');
    const token = await service.token(other, 'admin_paging', ['Admin']);
    const reps = [];
    for (let index = 0; index < 7; index++)
      reps.push(await addRep(service, token, { repNumber: `P-${index}` }));
    const expected = (await allEvents(service, token)).map((event) => event.id);
    expect(expected).toHaveLength(7);

    const seen: string[] = [];
    let url: string | undefined = `${EVENTS_URL}?pageSize=3`;
    while (url !== undefined) {
      const page = await eventPage(service, token, url);
      expect(page.events.length).toBeLessThanOrEqual(3);
      seen.push(...page.events.map((event) => event.id));
      url = page.next;
      // Newer events arrive while the client pages: they never shift or repeat the pages still to come.
      await addRep(service, token, { repNumber: `P-new-${seen.length}` });
    }
    expect(seen).toEqual(expected);
    const first = await eventPage(service, token, `${EVENTS_URL}?pageSize=3&action=sales_rep.created`);
    expect(first.next).toMatch(
      /^\/api\/organizations\/events\?pageSize=3&action=sales_rep.created&cursor=[\w-]+$/,
    );
  });

  it('filters by action, actorId, targetId, since and until', async () => {
    const other = await service.createOrganization('Filters Ltd');
    const alice = await service.token(other, 'alice', ['Admin']);
    const bob = await service.token(other, 'bob', ['Admin']);
    const first = await addRep(service, alice, { repNumber: 'F-1' });
    await service.call('POST', `${REPS_URL}/deactivate`, bob, {
      organizationSalesRepId: first.organizationSalesRepId,
    });
    const all = await allEvents(service, alice);
    expect(all.map((event) => event.action)).toEqual(['sales_rep.deactivated', 'sales_rep.created']);
    const [newest, oldest] = all as [EventBody, EventBody];

    expect((await allEvents(service, alice, '&action=sales_rep.created')).map((e) => e.id)).toEqual([
      oldest.id,
    ]);
    expect((await allEvents(service, alice, '&actorId=bob')).map((e) => e.id)).toEqual([newest.id]);
    expect((await allEvents(service, alice, `&targetId=${first.salesRepId}`)).map((e) => e.id)).toEqual([
      newest.id,
      oldest.id,
    ]);
    const since = encodeURIComponent(newest.occurredAt);
    expect((await allEvents(service, alice, `&since=${since}`)).map((e) => e.id)).toContain(newest.id);
    expect((await allEvents(service, alice, `&until=${since}`)).map((e) => e.id)).not.toContain(newest.id);
    const future = encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString());
    expect(await allEvents(service, alice, `&since=${future}`)).toEqual([]);
  });

  it('answers bad parameters with 400 naming the parameter', async () => {
    for (const [query, field] of [
      ['pageSize=101', 'pageSize'],
      ['pageSize=0', 'pageSize'],
      ['action=sales_rep.exploded', 'action'],
      ['since=yesterday', 'since'],
      ['until=2026-02-30T25:00:00Z', 'until'],
      ['since=2026-12-02T00:00:00Z&until=2026-12-01T00:00:00Z', 'until'],
      ['cursor=bm90LWEtY3Vyc29y', 'cursor'],
      ['cursor=%00', 'cursor'],
      ['sortOn=Action', 'sortOn'],
    ] as const) {
      const response = await service.call('GET', `${EVENTS_URL}?${query}`, admin);
      expectProblem(response, 400, [field]);
    }
  });

  it("lets only an Admin of the organization read its events: a rep is refused, another organization's admin sees none", async () => {
    const rep = await addRep(service, admin, { repNumber: 'EV-TENANT' });
    const repToken = await service.token(organization, rep.identityProviderUserId, ['SalesRep']);
    expectProblem(await service.call('GET', EVENTS_URL, repToken), 403);
    expectProblem(await service.call('GET', EVENTS_URL, 'not-a-token'), 401);

    const stranger = await service.createOrganization('Elsewhere Inc');
    const strangerAdmin = await service.token(stranger, 'stranger', ['Admin']);
    expect(await allEvents(service, strangerAdmin)).toEqual([]);
    expect(await allEvents(service, strangerAdmin, `&targetId=${rep.organizationSalesRepId}`)).toEqual([]);
    // A cursor taken from one organization's page reads only the caller's own events in another.
    const ours = await eventPage(service, admin, `${EVENTS_URL}?pageSize=1`);
    const cursor = new URL(ours.next ?? '', 'http://x').searchParams.get('cursor');
    expect(await allEvents(service, strangerAdmin, `&cursor=${cursor}`)).toEqual([]);
  });
});
