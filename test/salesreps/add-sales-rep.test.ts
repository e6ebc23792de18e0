import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { databaseKinds } from '../support/databases.js';
import { type AddedRep, addRep, expectProblem, newRep, REPS_URL } from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/service.js';
import { effectKinds, tableCounts } from './fixtures.js';

describe.each(databaseKinds)('PUT /api/organizations/salesreps on %s', (kind) => {
  let service: TestService;
  let organization: Organization;
  let admin: string;

  beforeAll(async () => {
    service = await startTestService(kind);
    organization = await service.createOrganization('Acme Distributors');
    admin = await service.token(organization, 'admin-1', ['Admin']);
  });
  afterAll(() => service.close());

  it('creates a rep, assigns it, and answers 200 with exactly the documented fields', async () => {
    const response = await service.call('PUT', REPS_URL, admin, {
      firstName: ' John ',
      lastName: 'Doe',
      email: 'john.doe@example.com',
      phoneNumber: '123-456-7890',
      repNumber: 'REP-001',
      roles: ['SalesRep'],
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(Object.keys(body).sort()).toEqual(
      [
        'organizationId',
        'organizationName',
        'organizationSalesRepId',
        'salesRepId',
        'firstName',
        'lastName',
        'email',
        'phoneNumber',
        'repNumber',
        'identityProvider',
        'identityProviderUserId',
      ].sort(),
    );
    expect(body).toMatchObject({
      organizationId: organization.id,
      organizationName: 'Acme Distributors',
      firstName: 'John',
      lastName: 'Doe',
      email: 'john.doe@example.com',
      phoneNumber: '123-456-7890',
      repNumber: 'REP-001',
      identityProvider: 'Local',
    });
    expect(body.organizationSalesRepId).toMatch(/^[0-9A-Za-z]{22}$/);
    expect(body.salesRepId).toMatch(/^[0-9A-Za-z]{22}$/);
    expect(body.identityProviderUserId).toMatch(/^local_[0-9A-Za-z]{22}$/);
  });

  it('records the provisioning, welcome email and sync effects in the same transaction', async () => {
    const response = await service.call('PUT', REPS_URL, admin, {
      firstName: 'Mary',
      lastName: 'Major',
      email: 'mary@example.com',
      repNumber: 'REP-002',
    });
    expect(response.statusCode).toBe(200);
    const effects = await service.db
      .selectFrom('effect')
      .select(['kind', 'status', 'payload'])
      .where('sales_rep_id', '=', response.json().salesRepId)
      .orderBy('id')
      .execute();
    expect(effects.map((effect) => effect.kind)).toEqual([
      'identity.provision',
      'email.welcome',
      'sync.grant',
    ]);
    expect(effects.every((effect) => effect.status === 'pending')).toBe(true);
    expect(effects[0]?.payload).toMatchObject({
      identityProviderUserId: response.json().identityProviderUserId,
      identityOrganizationId: organization.identity_organization_id,
      roles: ['SalesRep'],
    });
  });

  it('rejects a duplicate rep number in the organization with 409 and writes nothing', async () => {
    // An organization of its own, holding REP-001 already, so that the test runs alone too.
    const own = await service.createOrganization('Duplicate Numbers Ltd');
    const ownAdmin = await service.token(own, 'admin-1', ['Admin']);
    await addRep(service, ownAdmin, { repNumber: 'REP-001' });
    const response = await service.call('PUT', REPS_URL, ownAdmin, {
      firstName: 'Other',
      lastName: 'Person',
      email: 'other@example.com',
      repNumber: 'REP-001',
    });
    expect(response.statusCode).toBe(409);
    expect(response.headers['content-type']).toContain('application/problem+json');
    const reps = await service.db
      .selectFrom('sales_rep')
      .select('id')
      .where('email', '=', 'other@example.com')
      .execute();
    expect(reps).toEqual([]);
  });

  it('stores phoneNumber as null when it is absent or null', async () => {
    for (const phoneNumber of [undefined, null]) {
      const response = await service.call('PUT', REPS_URL, admin, { ...newRep(), phoneNumber });
      expect(response.statusCode).toBe(200);
      expect(response.json().phoneNumber).toBeNull();
    }
  });

  it('defaults roles to ["SalesRep"] and stores them on the assignment', async () => {
    const rep = await addRep(service, admin, newRep());
    const row = await service.db
      .selectFrom('organization_sales_rep')
      .select('roles')
      .where('id', '=', rep.organizationSalesRepId)
      .executeTakeFirstOrThrow();
    expect(row.roles).toEqual(['SalesRep']);
  });

  it.each([
    ['firstName', { firstName: 'F'.repeat(100) }],
    ['lastName', { lastName: 'Zoë Ünal-Łukasz' }],
    ['email', { email: `${'e'.repeat(64)}@${'d'.repeat(63)}.${'d'.repeat(63)}.${'d'.repeat(57)}.com` }],
    ['phoneNumber', { phoneNumber: `+1 ${'5'.repeat(29)}` }],
    ['repNumber', { repNumber: 'R'.repeat(32) }],
    ['repNumber', { repNumber: 'REP 1/#~' }],
  ])('accepts %s at its limit or with any allowed characters (%o)', async (_field, overrides) => {
    const body = newRep(overrides);
    expect(body.email.length).toBeLessThanOrEqual(254);
    const rep = await addRep(service, admin, body);
    expect(rep).toMatchObject(overrides);
  });

  const invalidBodies: [string, string, Record<string, unknown>][] = [
    ['firstName', 'missing', { firstName: undefined }],
    ['firstName', 'empty', { firstName: '' }],
    ['firstName', 'whitespace only', { firstName: '   ' }],
    ['firstName', 'over 100 characters', { firstName: 'F'.repeat(101) }],
    ['firstName', 'a control character', { firstName: 'Jo\u0000hn' }],
    ['firstName', 'a newline', { firstName: 'Jo\nhn' }],
    ['firstName', 'a C1 control character', { firstName: 'Jo\u0085hn' }],
    ['firstName', 'a number', { firstName: 42 }],
    [
      'firstName',
      '100 characters and a space (the limit applies as sent)',
      { firstName: ` ${'F'.repeat(100)}` },
    ],
    ['firstName', 'null', { firstName: null }],
    ['lastName', 'missing', { lastName: undefined }],
    ['lastName', 'whitespace only', { lastName: '\t ' }],
    ['lastName', 'over 100 characters', { lastName: 'L'.repeat(101) }],
    ['lastName', 'DEL', { lastName: 'Doe\u007f' }],
    ['lastName', 'an array', { lastName: ['Doe'] }],
    ['email', 'missing', { email: undefined }],
    ['email', 'empty', { email: '' }],
    ['email', 'not an address', { email: 'not-an-email' }],
    ['email', 'without a domain', { email: 'john@' }],
    ['email', 'with a space', { email: ' john@example.com' }],
    ['email', 'a domain without a dot', { email: 'john@localhost' }],
    ['email', 'a non-ASCII character', { email: 'jöhn@example.com' }],
    [
      'email',
      'over 254 characters',
      { email: `${'e'.repeat(64)}@${'d'.repeat(63)}.${'d'.repeat(63)}.${'d'.repeat(63)}.com` },
    ],
    ['email', 'a number', { email: 7 }],
    ['phoneNumber', 'empty', { phoneNumber: '' }],
    ['phoneNumber', 'whitespace only', { phoneNumber: '   ' }],
    ['phoneNumber', 'without a digit', { phoneNumber: 'call me' }],
    ['phoneNumber', 'over 32 characters', { phoneNumber: '5'.repeat(33) }],
    ['phoneNumber', 'a control character', { phoneNumber: '555\n0100' }],
    ['phoneNumber', 'a number', { phoneNumber: 5550100 }],
    ['repNumber', 'missing', { repNumber: undefined }],
    ['repNumber', 'empty', { repNumber: '' }],
    ['repNumber', 'whitespace only', { repNumber: '  ' }],
    ['repNumber', 'a leading space', { repNumber: ' REP-1' }],
    ['repNumber', 'a trailing space', { repNumber: 'REP-1 ' }],
    ['repNumber', 'over 32 characters', { repNumber: 'R'.repeat(33) }],
    ['repNumber', 'a non-ASCII character', { repNumber: 'RÉP-1' }],
    ['repNumber', 'a tab', { repNumber: 'REP\t1' }],
    ['repNumber', 'a number', { repNumber: 1 }],
    ['roles', 'empty', { roles: [] }],
    ['roles[0]', 'an unknown role', { roles: ['Admin'] }],
    ['roles[0]', 'a role in another letter case', { roles: ['salesrep'] }],
    ['roles', 'a repeated role', { roles: ['SalesRep', 'SalesRep'] }],
    ['roles', 'a string', { roles: 'SalesRep' }],
    ['middleName', 'an unknown field', { middleName: 'Q' }],
    ['organizationId', 'an unknown field', { organizationId: 'someone-else' }],
  ];

  it.each(invalidBodies)(
    'rejects %s (%s) with 400 naming it, and writes nothing',
    async (field, _case, overrides) => {
      const before = await tableCounts(service.db);
      const body = { ...newRep(), ...overrides };
      const response = await service.call('PUT', REPS_URL, admin, body);
      expectProblem(response, 400, [field]);
      expect(await tableCounts(service.db)).toEqual(before);
    },
  );

  it('names every invalid field of one body', async () => {
    const response = await service.call('PUT', REPS_URL, admin, { firstName: '', email: 'x', roles: [] });
    expectProblem(response, 400, ['firstName', 'lastName', 'email', 'repNumber', 'roles']);
  });

  it('rejects malformed JSON (400), a non-object body (400), another content type (415), a body over 64 KiB (413)', async () => {
    const before = await tableCounts(service.db);
    const send = (payload: string, contentType: string) =>
      service.app.inject({
        method: 'PUT',
        url: REPS_URL,
        headers: { authorization: `Bearer ${admin}`, 'content-type': contentType },
        payload,
      });
    expectProblem(await send('{"firstName": "J', 'application/json'), 400, ['body']);
    expectProblem(await send('[]', 'application/json'), 400);
    expectProblem(await send('', 'application/json'), 400, ['body']);
    expectProblem(await send('firstName=J', 'application/x-www-form-urlencoded'), 415);
    expectProblem(
      await send(JSON.stringify({ ...newRep(), firstName: 'F'.repeat(70_000) }), 'application/json'),
      413,
    );
    expect(await tableCounts(service.db)).toEqual(before);
  });

  it("reuses a rep of another organization found by email in any letter case: same ids, the caller's own names, phone and spelling", async () => {
    const first = await addRep(
      service,
      admin,
      newRep({
        firstName: 'Stored',
        lastName: 'Name',
        email: 'Reused.Rep@Example.com',
        phoneNumber: '555-0001',
      }),
    );
    const other = await service.createOrganization('Beta Supply');
    const otherAdmin = await service.token(other, 'admin-beta', ['Admin']);
    const before = await tableCounts(service.db);
    const second = await addRep(service, otherAdmin, {
      firstName: 'Different',
      lastName: 'Person',
      email: 'REUSED.rep@example.COM',
      phoneNumber: '555-9999',
      repNumber: first.repNumber,
    });
    expect(second).toMatchObject({
      organizationId: other.id,
      organizationName: 'Beta Supply',
      salesRepId: first.salesRepId,
      identityProviderUserId: first.identityProviderUserId,
      firstName: 'Different',
      lastName: 'Person',
      email: 'REUSED.rep@example.COM',
      phoneNumber: '555-9999',
      repNumber: first.repNumber,
    });
    expect(second.organizationSalesRepId).not.toBe(first.organizationSalesRepId);
    const after = await tableCounts(service.db);
    expect(after.salesReps).toBe(before.salesReps);
    expect(after.assignments).toBe(before.assignments + 1);
    const listed = await service.call('GET', `${REPS_URL}?pageSize=100`, otherAdmin);
    expect(listed.json()).toEqual([
      expect.objectContaining({
        salesRepId: first.salesRepId,
        firstName: 'Different',
        phoneNumber: '555-9999',
      }),
    ]);
    const provisions = await service.db
      .selectFrom('effect')
      .select('payload')
      .where('sales_rep_id', '=', first.salesRepId)
      .where('kind', '=', 'identity.provision')
      .execute();
    expect(provisions.map((row) => row.payload)).toEqual([
      expect.objectContaining({
        identityProviderUserId: first.identityProviderUserId,
        identityOrganizationId: organization.identity_organization_id,
      }),
      expect.objectContaining({
        identityProviderUserId: first.identityProviderUserId,
        identityOrganizationId: other.identity_organization_id,
      }),
    ]);
  });

  it('answers 409 when the email (in any letter case) is already assigned to the organization, and writes nothing', async () => {
    const rep = await addRep(service, admin, newRep({ email: 'Twice@Example.com' }));
    const before = await tableCounts(service.db);
    const response = await service.call('PUT', REPS_URL, admin, newRep({ email: 'twice@example.COM' }));
    expectProblem(response, 409);
    expect(response.json().type).toBe('urn:salesreps:problem:already-assigned');
    expect(await tableCounts(service.db)).toEqual(before);
    expect(await effectKinds(service.db, rep.salesRepId)).toEqual([
      'identity.provision',
      'email.welcome',
      'sync.grant',
    ]);
  });

  it('treats rep numbers as case-sensitive and scoped to the organization', async () => {
    await addRep(service, admin, newRep({ repNumber: 'CASE-1' }));
    await addRep(service, admin, newRep({ repNumber: 'case-1' }));
    const other = await service.createOrganization('Gamma Goods');
    await addRep(
      service,
      await service.token(other, 'admin-gamma', ['Admin']),
      newRep({ repNumber: 'CASE-1' }),
    );
    expectProblem(await service.call('PUT', REPS_URL, admin, newRep({ repNumber: 'CASE-1' })), 409);
  });

  it('creates exactly one rep and one assignment when 20 PUTs of one new email reach one organization at once', async () => {
    const email = `race.${Date.now()}@example.com`;
    const before = await tableCounts(service.db);
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        service.call(
          'PUT',
          REPS_URL,
          admin,
          newRep({ email: i % 2 ? email : email.toUpperCase(), repNumber: `RACE-${i}` }),
        ),
      ),
    );
    const statuses = responses.map((response) => response.statusCode);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 409)).toHaveLength(19);
    const after = await tableCounts(service.db);
    expect(after.salesReps).toBe(before.salesReps + 1);
    expect(after.assignments).toBe(before.assignments + 1);
    expect(after.effects).toBe(before.effects + 3);
  });

  it('creates one rep and one assignment per organization when one new email reaches 6 organizations at once', async () => {
    const organizations = await Promise.all(
      Array.from({ length: 6 }, (_, i) => service.createOrganization(`Parallel ${i}`)),
    );
    const email = `parallel.${Date.now()}@example.com`;
    const responses = await Promise.all(
      organizations.map(async (org, i) =>
        service.call('PUT', REPS_URL, await service.token(org, `admin-p${i}`, ['Admin']), newRep({ email })),
      ),
    );
    expect(responses.map((response) => response.statusCode)).toEqual(organizations.map(() => 200));
    const added = responses.map((response) => response.json() as AddedRep);
    expect(new Set(added.map((rep) => rep.salesRepId)).size).toBe(1);
    expect(new Set(added.map((rep) => rep.identityProviderUserId)).size).toBe(1);
    const reps = await service.db.selectFrom('sales_rep').select('id').where('email', '=', email).execute();
    expect(reps).toHaveLength(1);
    const assignments = await service.db
      .selectFrom('organization_sales_rep')
      .select('organization_id')
      .where('sales_rep_id', '=', reps[0]?.id ?? '')
      .execute();
    expect(assignments.map((row) => row.organization_id).sort()).toEqual(
      organizations.map((org) => org.id).sort(),
    );
  });
});
