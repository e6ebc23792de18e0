import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { databaseKinds } from '../support/databases.js';
import { addRep, expectProblem, newRep, REPS_URL } from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/service.js';
import { effectKinds, tableCounts } from './fixtures.js';

const BULK_URL = `${REPS_URL}/bulk`;
const PENDING_URL = `${REPS_URL}/pending-invitations`;

describe.each(databaseKinds)('POST /api/organizations/salesreps/bulk on %s', (kind) => {
  let service: TestService;

  beforeAll(async () => {
    service = await startTestService(kind);
  }, 120_000);
  afterAll(() => service?.close());

  /** An organization of its own and its admin's token, so that each test runs alone too. */
  async function tenant(name: string): Promise<{ organization: Organization; admin: string }> {
    const organization = await service.createOrganization(name);
    return { organization, admin: await service.token(organization, `admin-${name}`, ['Admin']) };
  }

  /** The events of a rep's assignment: action and changes, oldest first. */
  async function eventsOf(assignmentId: string) {
    const rows = await service.db
      .selectFrom('event')
      .select(['action', 'changes', 'targets'])
      .where(({ eb, val }) => eb(val(assignmentId), '=', eb.fn.any('target_ids')))
      .orderBy('seq')
      .execute();
    return rows.map((row) => ({ action: row.action, changes: row.changes, targets: row.targets }));
  }

  /** A rep's effects without what differs from rep to rep. */
  async function effectShapes(salesRepId: string) {
    const rows = await service.db
      .selectFrom('effect')
      .select(['kind', 'payload', 'ordering_key'])
      .where('sales_rep_id', '=', salesRepId)
      .orderBy('id')
      .execute();
    return rows.map((row) => ({
      kind: row.kind,
      fields: Object.keys(row.payload as object).sort(),
      orderedByRep: row.ordering_key === salesRepId,
    }));
  }

  it('adds every rep, answers them in the order sent, each as the PUT answers one', async () => {
    const { organization, admin } = await tenant('Bulk Order');
    const reps = [
      newRep({ firstName: ' Zoe ', email: 'zoe@bulk-order.example', repNumber: 'Z-1' }),
      newRep({ email: 'adam@bulk-order.example', repNumber: 'A-1', phoneNumber: '+1 555 0100' }),
      newRep({ email: 'mia@bulk-order.example', repNumber: 'M-1' }),
    ];
    const response = await service.call('POST', BULK_URL, admin, reps);
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json() as Record<string, unknown>[];
    expect(body.map((rep) => rep.email)).toEqual(reps.map((rep) => rep.email));
    expect(body[0]).toMatchObject({
      organizationId: organization.id,
      organizationName: 'Bulk Order',
      firstName: 'Zoe',
      repNumber: 'Z-1',
      phoneNumber: null,
      identityProvider: 'Local',
    });
    expect(body[1]?.phoneNumber).toBe('+1 555 0100');
    const listed = await service.call('GET', `${REPS_URL}?sortOn=RepNumber`, admin);
    expect(listed.json().map((rep: { repNumber: string }) => rep.repNumber)).toEqual(['A-1', 'M-1', 'Z-1']);
  });

  it('records per rep the effects and event a single PUT records', async () => {
    const { admin } = await tenant('Same As Put');
    const single = await addRep(service, admin, { email: 'single@same.example', repNumber: 'S-1' });
    const response = await service.call('POST', BULK_URL, admin, [
      newRep({ email: 'bulk@same.example', repNumber: 'B-1' }),
    ]);
    expect(response.statusCode, response.body).toBe(200);
    const [bulk] = response.json();
    expect(await effectShapes(bulk.salesRepId)).toEqual(await effectShapes(single.salesRepId));
    expect(await effectKinds(service.db, bulk.salesRepId)).toEqual([
      'identity.provision',
      'email.welcome',
      'sync.grant',
    ]);
    const [singleEvent] = await eventsOf(single.organizationSalesRepId);
    const [bulkEvent] = await eventsOf(bulk.organizationSalesRepId);
    expect(bulkEvent?.action).toBe('sales_rep.created');
    expect(Object.keys(bulkEvent?.changes as object)).toEqual(Object.keys(singleEvent?.changes as object));
    expect(bulkEvent?.targets).toEqual([
      { type: 'organization_sales_rep', id: bulk.organizationSalesRepId },
      { type: 'sales_rep', id: bulk.salesRepId },
    ]);
  });

  it(`takes 1 to 100 reps: none or 101 is a 400 and writes nothing`, async () => {
    const { admin } = await tenant('Limits');
    const before = await tableCounts(service.db);
    expectProblem(await service.call('POST', BULK_URL, admin, []), 400);
    const tooMany = Array.from({ length: 101 }, (_, index) =>
      newRep({ email: `r${index}@limits.example`, repNumber: `L-${index}` }),
    );
    expectProblem(await service.call('POST', BULK_URL, admin, tooMany), 400);
    expectProblem(await service.call('POST', BULK_URL, admin, newRep()), 400);
    expectProblem(await service.call('POST', `${BULK_URL}?sendInvitations=maybe`, admin, [newRep()]), 400, [
      'sendInvitations',
    ]);
    expect(await tableCounts(service.db)).toEqual(before);
    const hundred = tooMany.slice(0, 100);
    const response = await service.call('POST', BULK_URL, admin, hundred);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toHaveLength(100);
  });

  it('names each invalid field by its item, and writes none of the reps', async () => {
    const { admin } = await tenant('Validation');
    const before = await tableCounts(service.db);
    const response = await service.call('POST', BULK_URL, admin, [
      newRep({ email: 'fine@validation.example' }),
      newRep({ email: 'not-an-email' }),
      newRep({ lastName: '' }),
      { ...newRep(), extra: 1 },
    ]);
    const body = expectProblem(response, 400, ['[1].email', '[2].lastName', '[3].extra']);
    expect(body.errors.map((error: { field: string }) => error.field)).not.toContain('[0].email');
    expect(await tableCounts(service.db)).toEqual(before);
  });

  it('refuses an email (in any letter case) or rep number repeated within the request, naming both items', async () => {
    const { admin } = await tenant('Duplicates');
    const before = await tableCounts(service.db);
    const response = await service.call('POST', BULK_URL, admin, [
      newRep({ email: 'same@dup.example', repNumber: 'D-1' }),
      newRep({ email: 'other@dup.example', repNumber: 'D-2' }),
      newRep({ email: 'SAME@dup.example', repNumber: 'D-3' }),
      newRep({ email: 'third@dup.example', repNumber: 'D-2' }),
    ]);
    const body = expectProblem(response, 400);
    expect(body.errors).toEqual([
      { field: '[2].email', message: 'repeats the email of [0]' },
      { field: '[3].repNumber', message: 'repeats the rep number of [1]' },
    ]);
    expect(await tableCounts(service.db)).toEqual(before);
  });

  it("refuses with 409 the emails and rep numbers of the organization's reps, naming each item", async () => {
    const { admin } = await tenant('Taken');
    await addRep(service, admin, { email: 'held@taken.example', repNumber: 'T-1' });
    const before = await tableCounts(service.db);
    const response = await service.call('POST', BULK_URL, admin, [
      newRep({ email: 'new@taken.example', repNumber: 'T-2' }),
      newRep({ email: 'Held@Taken.example', repNumber: 'T-3' }),
      newRep({ email: 'another@taken.example', repNumber: 'T-1' }),
    ]);
    const body = expectProblem(response, 409);
    expect(body.type).toBe('urn:salesreps:problem:reps-taken');
    expect(body.errors).toEqual([
      { field: '[1].email', message: 'belongs to a sales rep of this organization' },
      { field: '[2].repNumber', message: 'is already used in this organization' },
    ]);
    expect(await tableCounts(service.db)).toEqual(before);
  });

  it("is bounded by the caller's organization: another's reps neither conflict nor show, and a rep cannot call it", async () => {
    const one = await tenant('Tenant One');
    const two = await tenant('Tenant Two');
    const theirs = await addRep(service, one.admin, { email: 'shared@tenants.example', repNumber: 'X-1' });
    const response = await service.call('POST', BULK_URL, two.admin, [
      newRep({ firstName: 'Own', email: 'shared@tenants.example', repNumber: 'X-1' }),
    ]);
    expect(response.statusCode, response.body).toBe(200);
    const [ours] = response.json();
    // The same person (one identity provider user), with the second organization's own words and number.
    expect(ours.salesRepId).toBe(theirs.salesRepId);
    expect(ours).toMatchObject({ organizationId: two.organization.id, firstName: 'Own', repNumber: 'X-1' });
    const oneList = await service.call('GET', REPS_URL, one.admin);
    expect(oneList.json().map((rep: { firstName: string }) => rep.firstName)).toEqual(['Jane']);

    const rep = await service.token(two.organization, 'rep-user', ['SalesRep']);
    expectProblem(await service.call('POST', BULK_URL, rep, [newRep()]), 403);
    expectProblem(await service.call('POST', PENDING_URL, rep), 403);
  });

  it('adds reps without their invitation when asked, and "send invitations" mails them later, once', async () => {
    const { admin } = await tenant('Later');
    const response = await service.call('POST', `${BULK_URL}?sendInvitations=false`, admin, [
      newRep({ email: 'one@later.example', repNumber: 'N-1' }),
      newRep({ email: 'two@later.example', repNumber: 'N-2' }),
      newRep({ email: 'three@later.example', repNumber: 'N-3' }),
    ]);
    expect(response.statusCode, response.body).toBe(200);
    const [first, second, third] = response.json();
    for (const rep of [first, second, third]) {
      expect(await effectKinds(service.db, rep.salesRepId)).toEqual(['identity.provision', 'sync.grant']);
    }
    expect((await service.call('GET', PENDING_URL, admin)).json()).toEqual({ pending: 3 });

    // A deactivated rep is not invited; activating it sends its invitation instead.
    expect(
      (
        await service.call('POST', `${REPS_URL}/deactivate`, admin, {
          organizationSalesRepId: third.organizationSalesRepId,
        })
      ).statusCode,
    ).toBe(200);
    expect((await service.call('GET', PENDING_URL, admin)).json()).toEqual({ pending: 2 });

    const sent = await service.call('POST', PENDING_URL, admin);
    expect(sent.statusCode, sent.body).toBe(200);
    expect(sent.json()).toEqual({ sent: 2, pending: 0 });
    for (const rep of [first, second]) {
      expect(await effectKinds(service.db, rep.salesRepId)).toEqual([
        'identity.provision',
        'sync.grant',
        'email.welcome',
      ]);
      expect((await eventsOf(rep.organizationSalesRepId)).map((event) => event.action)).toEqual([
        'sales_rep.created',
        'invitation.sent',
      ]);
    }
    expect((await service.call('POST', PENDING_URL, admin)).json()).toEqual({ sent: 0, pending: 0 });
    expect(await effectKinds(service.db, first.salesRepId)).toHaveLength(3);

    await service.call('POST', `${REPS_URL}/activate`, admin, {
      organizationSalesRepId: third.organizationSalesRepId,
    });
    expect((await effectKinds(service.db, third.salesRepId)).at(-2)).toBe('email.reinvitation');
    expect((await service.call('GET', PENDING_URL, admin)).json()).toEqual({ pending: 0 });
    expect((await service.call('POST', PENDING_URL, admin)).json()).toEqual({ sent: 0, pending: 0 });
  });

  it('sends at most 100 invitations per request, the rest at the next', async () => {
    const { admin } = await tenant('Many Later');
    for (const batch of [0, 1]) {
      const reps = Array.from({ length: batch === 0 ? 100 : 5 }, (_, index) =>
        newRep({ email: `m${batch}-${index}@many.example`, repNumber: `M${batch}-${index}` }),
      );
      const response = await service.call('POST', `${BULK_URL}?sendInvitations=false`, admin, reps);
      expect(response.statusCode, response.body).toBe(200);
    }
    expect((await service.call('POST', PENDING_URL, admin)).json()).toEqual({ sent: 100, pending: 5 });
    expect((await service.call('POST', PENDING_URL, admin)).json()).toEqual({ sent: 5, pending: 0 });
  });

  it('leaves pending invitations of another organization alone', async () => {
    const one = await tenant('Pending One');
    const two = await tenant('Pending Two');
    await service.call('POST', `${BULK_URL}?sendInvitations=false`, one.admin, [newRep()]);
    expect((await service.call('POST', PENDING_URL, two.admin)).json()).toEqual({ sent: 0, pending: 0 });
    expect((await service.call('GET', PENDING_URL, one.admin)).json()).toEqual({ pending: 1 });
  });
});
