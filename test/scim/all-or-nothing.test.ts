// A SCIM PUT or PATCH is one change: every part it implies, with its events and effects, is written or none is.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { databaseKinds } from '../support/databases.js';
import { startTestService, type TestService } from '../support/service.js';
import { ENTERPRISE, expectScimError, oktaUser, PATCH_OP, scim, scimTenant } from './support.js';

function patch(...operations: object[]) {
  return { schemas: [PATCH_OP], Operations: operations };
}

describe.each(databaseKinds)('SCIM PUT and PATCH, all or nothing, on %s', (kind) => {
  let service: TestService;
  let organization: Organization;
  let admin: string;
  let token: string;
  let tokenId: string;

  beforeAll(async () => {
    service = await startTestService(kind);
    ({ organization, admin, token, tokenId } = await scimTenant(service));
  });
  afterAll(() => service.close());

  async function createUser(email: string, repNumber: string) {
    const created = await scim(service, 'POST', '/Users', token, oktaUser(email, repNumber));
    expect(created.statusCode, created.body).toBe(201);
    return created.json() as { id: string };
  }

  /** All the organization's state a change could touch: the User as read, its events and every effect row. */
  async function snapshot(id: string) {
    const user = await scim(service, 'GET', `/Users/${id}`, token);
    expect(user.statusCode, user.body).toBe(200);
    const events = await service.call('GET', '/api/organizations/events', admin);
    expect(events.statusCode, events.body).toBe(200);
    const effects = await service.db
      .selectFrom('effect')
      .selectAll()
      .where('organization_id', '=', organization.id)
      .orderBy('id')
      .execute();
    return { user: user.json(), events: events.json(), effects };
  }

  it('refuses a PUT whole when its rep number is taken: the name it also changes stays, no event, no effect', async () => {
    await createUser('taken-put@acme.example', 'P-1');
    const { id } = await createUser('ada-put@acme.example', 'P-2');
    const before = await snapshot(id);

    const refused = await scim(service, 'PUT', `/Users/${id}`, token, {
      ...oktaUser('ada-put@acme.example', 'P-1'),
      name: { givenName: 'Augusta', familyName: 'King' },
    });

    expectScimError(refused, 409, 'uniqueness');
    const after = await snapshot(id);
    expect(after.user.name).toMatchObject({ givenName: 'Ada', familyName: 'Lovelace' });
    expect(after).toEqual(before);
  });

  it('refuses a PATCH whole when its last operation is refused: neither the name nor the deactivation is done', async () => {
    await createUser('taken-patch@acme.example', 'Q-1');
    const { id } = await createUser('ada-patch@acme.example', 'Q-2');
    const before = await snapshot(id);

    const refused = await scim(
      service,
      'PATCH',
      `/Users/${id}`,
      token,
      patch(
        { op: 'replace', path: 'name.givenName', value: 'Augusta' },
        { op: 'replace', path: 'externalId', value: 'augusta' },
        { op: 'replace', path: 'active', value: false },
        { op: 'replace', path: `${ENTERPRISE}:employeeNumber`, value: 'Q-1' },
      ),
    );

    expectScimError(refused, 409, 'uniqueness');
    const after = await snapshot(id);
    expect(after.user).toMatchObject({ active: true, name: { givenName: 'Ada' } });
    expect(after).toEqual(before);
  });

  it('does a PUT changing the names, rep number and active in one go, with each change recorded', async () => {
    const { id } = await createUser('grace@acme.example', 'R-1');
    const row = await service.db
      .selectFrom('organization_sales_rep')
      .select('sales_rep_id')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    const effectsBefore = await service.db
      .selectFrom('effect')
      .select('id')
      .where('sales_rep_id', '=', row.sales_rep_id)
      .execute();

    const replaced = await scim(service, 'PUT', `/Users/${id}`, token, {
      ...oktaUser('grace@acme.example', 'R-9'),
      externalId: '00uR-1',
      name: { givenName: 'Grace', familyName: 'Hopper' },
      active: false,
    });

    expect(replaced.statusCode, replaced.body).toBe(200);
    expect(replaced.json()).toMatchObject({
      id,
      active: false,
      name: { givenName: 'Grace', familyName: 'Hopper' },
      [ENTERPRISE]: { employeeNumber: 'R-9' },
    });
    expect((await scim(service, 'GET', `/Users/${id}`, token)).json()).toEqual(replaced.json());
    const events = (await service.call('GET', `/api/organizations/events?targetId=${id}`, admin)).json();
    expect(
      events.map((event: { action: string; changes: object }) => [event.action, event.changes]).reverse(),
    ).toEqual([
      ['sales_rep.created', expect.anything()],
      [
        'sales_rep.updated',
        { firstName: { from: 'Ada', to: 'Grace' }, lastName: { from: 'Lovelace', to: 'Hopper' } },
      ],
      ['sales_rep.rep_number_changed', { repNumber: { from: 'R-1', to: 'R-9' } }],
      ['sales_rep.deactivated', { active: { from: true, to: false } }],
    ]);
    expect(events.map((event: { actor: object }) => event.actor)).toEqual(
      events.map(() => ({ type: 'scim', id: tokenId })),
    );
    const effects = await service.db
      .selectFrom('effect')
      .select(['kind', 'payload'])
      .where('sales_rep_id', '=', row.sales_rep_id)
      .orderBy('id')
      .execute();
    expect(effects.slice(effectsBefore.length)).toEqual([
      { kind: 'sync.grant', payload: expect.objectContaining({ repNumber: 'R-9' }) },
      { kind: 'identity.revokeMembership', payload: expect.anything() },
      { kind: 'sync.revoke', payload: expect.anything() },
    ]);
  });
});
