// The requests Microsoft Entra ID's provisioning service sends (its SCIM endpoint tutorial and validator), in order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { effectKinds } from '../salesreps/fixtures.js';
import { databaseKinds } from '../support/databases.js';
import { startTestService, type TestService } from '../support/service.js';
import { ENTERPRISE, expectScimError, PATCH_OP, scim, scimTenant, USER_SCHEMA } from './support.js';

const EXTERNAL_ID = '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef';

/** A User as Entra's default attribute mapping sends it (userName from the UPN, which here is the mail). */
function entraUser(email: string, repNumber: string) {
  return {
    schemas: [USER_SCHEMA, ENTERPRISE],
    externalId: EXTERNAL_ID,
    userName: email,
    active: true,
    displayName: 'Grace Hopper',
    title: 'Account Manager',
    emails: [{ primary: true, type: 'work', value: email }],
    meta: { resourceType: 'User' },
    name: { formatted: 'Grace Hopper', familyName: 'Hopper', givenName: 'Grace' },
    roles: [],
    [ENTERPRISE]: { employeeNumber: repNumber, department: 'Sales' },
  };
}

function patch(...operations: object[]) {
  return { schemas: [PATCH_OP], Operations: operations };
}

describe.each(databaseKinds)("Microsoft Entra ID's provisioning sequence on %s", (kind) => {
  let service: TestService;
  let token: string;
  let tokenId: string;
  let admin: string;

  beforeAll(async () => {
    service = await startTestService(kind);
    ({ token, tokenId, admin } = await scimTenant(service));
  });
  afterAll(() => service.close());

  it('creates with externalId, finds by externalId, PATCHes with capitalised ops, path filters and string booleans, deletes', async () => {
    // Entra first looks the user up by its matching attribute, then creates it.
    const before = await scim(
      service,
      'GET',
      `/Users?filter=${encodeURIComponent(`externalId eq "${EXTERNAL_ID}"`)}`,
      token,
    );
    expect(before.json()).toMatchObject({ totalResults: 0, Resources: [] });
    const created = await scim(
      service,
      'POST',
      '/Users',
      token,
      entraUser('grace.hopper@contoso.com', 'E-1'),
    );
    expect(created.statusCode, created.body).toBe(201);
    const { id } = created.json();
    expect(created.json()).toMatchObject({
      externalId: EXTERNAL_ID,
      [ENTERPRISE]: { employeeNumber: 'E-1' },
    });

    const byExternalId = await scim(
      service,
      'GET',
      `/Users?filter=${encodeURIComponent(`externalId eq "${EXTERNAL_ID}"`)}`,
      token,
    );
    expect(byExternalId.json()).toMatchObject({
      totalResults: 1,
      Resources: [{ id, externalId: EXTERNAL_ID }],
    });
    // externalId is case-exact (RFC 7643 §3.1).
    const otherCase = await scim(
      service,
      'GET',
      `/Users?filter=${encodeURIComponent(`externalId eq "${EXTERNAL_ID.toUpperCase()}"`)}`,
      token,
    );
    expect(otherCase.json().totalResults).toBe(0);

    // Multi-valued and single-valued attributes, Entra's capitalised ops and path filters.
    const updated = await scim(
      service,
      'PATCH',
      `/Users/${id}`,
      token,
      patch(
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'Grace.Hopper@contoso.com' },
        { op: 'Replace', path: 'name.familyName', value: 'Murray Hopper' },
        { op: 'Add', path: 'phoneNumbers[type eq "work"].value', value: '+1 555 0100' },
        { op: 'Replace', path: `${ENTERPRISE}:employeeNumber`, value: 'E-2' },
        { op: 'Add', path: 'title', value: 'Rear Admiral' },
      ),
    );
    expect(updated.statusCode, updated.body).toBe(200);
    expect(updated.json()).toMatchObject({
      userName: 'grace.hopper@contoso.com',
      name: { givenName: 'Grace', familyName: 'Murray Hopper' },
      phoneNumbers: [{ value: '+1 555 0100', type: 'work' }],
      [ENTERPRISE]: { employeeNumber: 'E-2' },
    });

    // Entra sends booleans as strings.
    const disabled = await scim(
      service,
      'PATCH',
      `/Users/${id}`,
      token,
      patch({ op: 'Replace', path: 'active', value: 'False' }),
    );
    expect(disabled.statusCode, disabled.body).toBe(200);
    expect(disabled.json().active).toBe(false);
    const enabled = await scim(
      service,
      'PATCH',
      `/Users/${id}`,
      token,
      patch({ op: 'Replace', path: 'active', value: 'True' }),
    );
    expect(enabled.json().active).toBe(true);

    const deleted = await scim(service, 'DELETE', `/Users/${id}`, token);
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe('');
    expectScimError(await scim(service, 'GET', `/Users/${id}`, token), 404);

    // Every change is the API's own event, the directory's token its actor.
    const events = (await service.call('GET', `/api/organizations/events?targetId=${id}`, admin)).json();
    expect(events.map((event: { action: string }) => event.action).reverse()).toEqual([
      'sales_rep.created',
      'sales_rep.updated',
      'sales_rep.rep_number_changed',
      'sales_rep.deactivated',
      'sales_rep.activated',
      'sales_rep.removed',
    ]);
    expect(
      events.every(
        (event: { actor: object }) =>
          JSON.stringify(event.actor) === JSON.stringify({ type: 'scim', id: tokenId }),
      ),
    ).toBe(true);
  });

  it('has the effects of the API: provisioning, the welcome mail and the sync grant on create; revocations on deactivate', async () => {
    const created = await scim(service, 'POST', '/Users', token, {
      ...entraUser('ada@contoso.com', 'E-10'),
      externalId: 'ada',
    });
    const { id } = created.json();
    const row = await service.db
      .selectFrom('organization_sales_rep')
      .select('sales_rep_id')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(await effectKinds(service.db, row.sales_rep_id)).toEqual([
      'identity.provision',
      'email.welcome',
      'sync.grant',
    ]);
    await scim(
      service,
      'PATCH',
      `/Users/${id}`,
      token,
      patch({ op: 'Replace', path: 'active', value: false }),
    );
    expect((await effectKinds(service.db, row.sales_rep_id)).slice(3)).toEqual([
      'identity.revokeMembership',
      'sync.revoke',
    ]);
  });

  it('accepts the enterprise extension as a value object and a PATCH without a path keyed by attribute URNs', async () => {
    const { id } = (
      await scim(service, 'POST', '/Users', token, {
        ...entraUser('lin@contoso.com', 'E-20'),
        externalId: 'lin',
      })
    ).json();
    const byObject = await scim(
      service,
      'PATCH',
      `/Users/${id}`,
      token,
      patch({ op: 'Replace', path: ENTERPRISE, value: { employeeNumber: 'E-21' } }),
    );
    expect(byObject.json()[ENTERPRISE]).toEqual({ employeeNumber: 'E-21' });
    const byKeys = await scim(
      service,
      'PATCH',
      `/Users/${id}`,
      token,
      patch({
        op: 'Add',
        value: { [`${ENTERPRISE}:employeeNumber`]: 'E-22', 'name.givenName': 'Lin', externalId: 'lin-2' },
      }),
    );
    expect(byKeys.json()).toMatchObject({
      [ENTERPRISE]: { employeeNumber: 'E-22' },
      name: { givenName: 'Lin' },
      externalId: 'lin-2',
    });
    const removed = await scim(
      service,
      'PATCH',
      `/Users/${id}`,
      token,
      patch({ op: 'Remove', path: 'externalId' }),
    );
    expect(removed.json().externalId).toBeUndefined();
  });

  it("refuses to change the email (the person's identity) with 400 mutability, and changes nothing", async () => {
    const { id } = (
      await scim(service, 'POST', '/Users', token, {
        ...entraUser('kay@contoso.com', 'E-30'),
        externalId: 'kay',
      })
    ).json();
    const refused = await scim(
      service,
      'PATCH',
      `/Users/${id}`,
      token,
      patch(
        { op: 'Replace', path: 'name.givenName', value: 'Katherine' },
        { op: 'Replace', path: 'userName', value: 'katherine@contoso.com' },
      ),
    );
    expectScimError(refused, 400, 'mutability');
    expect((await scim(service, 'GET', `/Users/${id}`, token)).json()).toMatchObject({
      userName: 'kay@contoso.com',
      name: { givenName: 'Grace' },
    });
  });
});
