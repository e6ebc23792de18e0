// Okta's SCIM 2.0 spec test ("SCIM 2.0 Test" runner of Okta's provisioning docs), request by request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from '../support/databases.js';
import { startTestService, type TestService } from '../support/service.js';
import { ENTERPRISE, expectScimError, oktaUser, PATCH_OP, scim, scimTenant } from './support.js';

describe.each(databaseKinds)("Okta's SCIM 2.0 spec test on %s", (kind) => {
  let service: TestService;
  let token: string;

  beforeAll(async () => {
    service = await startTestService(kind);
    ({ token } = await scimTenant(service));
  });
  afterAll(() => service.close());

  it('runs the sequence: list, unknown filter, create, get, filter, 409, 404, deactivate by PATCH, replace by PUT', async () => {
    // 1. The list answers a ListResponse (Okta reads totalResults, Resources, startIndex, itemsPerPage).
    const list = await scim(service, 'GET', '/Users?startIndex=1&count=100', token);
    expect(list.statusCode).toBe(200);
    expect(list.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(list.json()).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: 0,
      startIndex: 1,
      itemsPerPage: 0,
      Resources: [],
    });

    // 2. A filter for a user who does not exist: an empty list, not a 404.
    const unknown = await scim(
      service,
      'GET',
      `/Users?filter=${encodeURIComponent('userName eq "nobody@example.com"')}`,
      token,
    );
    expect(unknown.statusCode).toBe(200);
    expect(unknown.json()).toMatchObject({ totalResults: 0, Resources: [] });

    // 3. Create.
    const created = await scim(
      service,
      'POST',
      '/Users',
      token,
      oktaUser('Ada.Lovelace@example.com', 'R-100'),
    );
    expect(created.statusCode, created.body).toBe(201);
    const user = created.json();
    expect(user).toMatchObject({
      userName: 'Ada.Lovelace@example.com',
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      emails: [{ value: 'Ada.Lovelace@example.com', type: 'work', primary: true }],
      active: true,
      externalId: '00uR-100',
      [ENTERPRISE]: { employeeNumber: 'R-100' },
      meta: { resourceType: 'User', location: `http://127.0.0.1:3000/scim/v2/Users/${user.id}` },
    });
    expect(created.headers.location).toBe(user.meta.location);

    // 4. Get by id.
    const got = await scim(service, 'GET', `/Users/${user.id}`, token);
    expect(got.statusCode).toBe(200);
    expect(got.json()).toEqual(user);

    // 5. Filter for it, the address in another letter case.
    const found = await scim(
      service,
      'GET',
      `/Users?filter=${encodeURIComponent('userName eq "ada.lovelace@EXAMPLE.com"')}&startIndex=1&count=100`,
      token,
    );
    expect(found.json()).toMatchObject({ totalResults: 1, itemsPerPage: 1, Resources: [{ id: user.id }] });

    // 6. The same user again: 409 uniqueness.
    const duplicate = await scim(
      service,
      'POST',
      '/Users',
      token,
      oktaUser('ada.lovelace@example.com', 'R-101'),
    );
    expectScimError(duplicate, 409, 'uniqueness');

    // 7. An id that does not exist: 404.
    expectScimError(await scim(service, 'GET', '/Users/010101001010101010', token), 404);

    // 8. Deactivate with Okta's PATCH: replace, no path, a value object.
    const deactivated = await scim(service, 'PATCH', `/Users/${user.id}`, token, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', value: { active: false } }],
    });
    expect(deactivated.statusCode, deactivated.body).toBe(200);
    expect(deactivated.json().active).toBe(false);

    // 9. Replace by PUT: the whole user, a new given name, active again.
    const replaced = await scim(service, 'PUT', `/Users/${user.id}`, token, {
      ...oktaUser('Ada.Lovelace@example.com', 'R-100'),
      id: user.id,
      name: { givenName: 'Augusta', familyName: 'Lovelace' },
    });
    expect(replaced.statusCode, replaced.body).toBe(200);
    expect(replaced.json()).toMatchObject({ name: { givenName: 'Augusta' }, active: true });
  });
});
