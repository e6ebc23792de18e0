// The SCIM protocol's edges: tenancy, SCIM errors for every refusal, bounded work, paging and discovery.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from '../support/databases.js';
import { startTestService, type TestService } from '../support/service.js';
import { ENTERPRISE, expectScimError, oktaUser, PATCH_OP, scim, scimTenant } from './support.js';

function patch(...operations: object[]) {
  return { schemas: [PATCH_OP], Operations: operations };
}

describe.each(databaseKinds)('SCIM /scim/v2 on %s', (kind) => {
  let service: TestService;
  let token: string;

  beforeAll(async () => {
    service = await startTestService(kind);
    ({ token } = await scimTenant(service));
  });
  afterAll(() => service.close());

  async function createUser(email: string, repNumber: string, on = token) {
    const created = await scim(service, 'POST', '/Users', on, oktaUser(email, repNumber));
    expect(created.statusCode, created.body).toBe(201);
    return created.json() as { id: string };
  }

  describe('tenancy', () => {
    it("shows a token nothing of another organization's reps: not in the list, not by filter, 404 by id", async () => {
      const other = await scimTenant(service, 'Other Distributors');
      const theirs = await createUser('theirs@other.example', 'T-1', other.token);
      const mine = await createUser('mine@acme.example', 'T-1');
      const listed = (await scim(service, 'GET', '/Users?count=100', token)).json();
      expect(listed.Resources.map((user: { id: string }) => user.id)).toContain(mine.id);
      expect(listed.Resources.map((user: { id: string }) => user.id)).not.toContain(theirs.id);
      const filtered = await scim(
        service,
        'GET',
        `/Users?filter=${encodeURIComponent('userName eq "theirs@other.example"')}`,
        token,
      );
      expect(filtered.json().totalResults).toBe(0);
      expectScimError(await scim(service, 'GET', `/Users/${theirs.id}`, token), 404);
      expectScimError(
        await scim(service, 'PUT', `/Users/${theirs.id}`, token, oktaUser('theirs@other.example', 'T-1')),
        404,
      );
      expectScimError(
        await scim(
          service,
          'PATCH',
          `/Users/${theirs.id}`,
          token,
          patch({ op: 'replace', value: { active: false } }),
        ),
        404,
      );
      expectScimError(await scim(service, 'DELETE', `/Users/${theirs.id}`, token), 404);
      const still = (await scim(service, 'GET', `/Users/${theirs.id}`, other.token)).json();
      expect(still).toMatchObject({ id: theirs.id, active: true });
    });

    it('reuses the person an email names, as the API does, with this organization’s own values', async () => {
      const other = await scimTenant(service, 'Third Distributors');
      await createUser('shared@people.example', 'S-1', other.token);
      const here = await scim(service, 'POST', '/Users', token, {
        ...oktaUser('Shared@People.example', 'S-9'),
        name: { givenName: 'Sam', familyName: 'Here' },
      });
      expect(here.statusCode, here.body).toBe(201);
      expect(here.json()).toMatchObject({ userName: 'Shared@People.example', name: { givenName: 'Sam' } });
      const people = await service.db
        .selectFrom('sales_rep')
        .select('id')
        .where('email', 'ilike', 'shared@people.example')
        .execute();
      expect(people).toHaveLength(1);
    });
  });

  describe('errors', () => {
    it('answers a taken rep number with 409 uniqueness', async () => {
      await createUser('first@acme.example', 'U-1');
      expectScimError(
        await scim(service, 'POST', '/Users', token, oktaUser('second@acme.example', 'U-1')),
        409,
        'uniqueness',
      );
      const { id } = await createUser('third@acme.example', 'U-3');
      const renumbered = await scim(
        service,
        'PATCH',
        `/Users/${id}`,
        token,
        patch({ op: 'replace', path: `${ENTERPRISE}:employeeNumber`, value: 'U-1' }),
      );
      expectScimError(renumbered, 409, 'uniqueness');
    });

    it('names employeeNumber when the rep number is missing (400 invalidValue), and creates nothing', async () => {
      const { [ENTERPRISE]: _extension, ...user } = oktaUser('nonumber@acme.example', 'X');
      const refused = expectScimError(
        await scim(service, 'POST', '/Users', token, user),
        400,
        'invalidValue',
      );
      expect(refused.detail).toContain('employeeNumber');
      const found = await scim(
        service,
        'GET',
        `/Users?filter=${encodeURIComponent('userName eq "nonumber@acme.example"')}`,
        token,
      );
      expect(found.json().totalResults).toBe(0);
    });

    it('holds a User to the API field limits: 400 invalidValue for a long name, a bad email, NUL or control characters', async () => {
      const base = oktaUser('limits@acme.example', 'L-1');
      for (const [user, attribute] of [
        [{ ...base, name: { givenName: 'x'.repeat(101), familyName: 'Doe' } }, 'name.givenName'],
        [{ ...base, userName: 'not-an-email', emails: [] }, 'userName'],
        [{ ...base, name: { givenName: 'Tab\tbed', familyName: 'Doe' } }, 'name.givenName'],
        [{ ...base, [ENTERPRISE]: { employeeNumber: 'x'.repeat(33) } }, 'employeeNumber'],
        [{ ...base, externalId: 'a\u0007b' }, 'externalId'],
        [{ ...base, active: 'maybe' }, 'active'],
      ] as const) {
        const refused = expectScimError(
          await scim(service, 'POST', '/Users', token, user),
          400,
          'invalidValue',
        );
        expect(refused.detail).toContain(attribute);
      }
      const nul = await scim(service, 'POST', '/Users', token, {
        ...base,
        name: { givenName: 'a\u0000b', familyName: 'Doe' },
      });
      expectScimError(nul, 400, 'invalidValue');
    });

    it('answers malformed JSON with 400 invalidSyntax, a wrong media type with 415, a large body with 413, all as SCIM errors', async () => {
      expectScimError(await scim(service, 'POST', '/Users', token, '{"userName":'), 400, 'invalidSyntax');
      expectScimError(await scim(service, 'POST', '/Users', token, 'userName=x', 'text/plain'), 415);
      const large = { ...oktaUser('large@acme.example', 'B-1'), padding: 'x'.repeat(70 * 1024) };
      expectScimError(await scim(service, 'POST', '/Users', token, large), 413);
    });

    it('answers a compressed body, a malformed URL and an over-long id as SCIM errors too', async () => {
      const gzipped = await service.app.inject({
        method: 'POST',
        url: '/scim/v2/Users',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/scim+json',
          'content-encoding': 'gzip',
        },
        payload: JSON.stringify(oktaUser('gzip@acme.example', 'G-1')),
      });
      expectScimError(gzipped, 415);
      expectScimError(await scim(service, 'GET', '/Users/%E0%A4%A', token), 400);
      expectScimError(await scim(service, 'GET', `/Users/${'x'.repeat(201)}`, token), 414);
    });

    it('accepts plain JSON as well as application/scim+json', async () => {
      const created = await scim(
        service,
        'POST',
        '/Users',
        token,
        oktaUser('plain@acme.example', 'P-1'),
        'application/json',
      );
      expect(created.statusCode, created.body).toBe(201);
      expect(created.headers['content-type']).toMatch(/^application\/scim\+json/);
    });

    it('refuses a filter it does not support with 400 invalidFilter rather than ignoring it', async () => {
      for (const filter of [
        'userName co "a"',
        'title eq "Manager"',
        'userName eq "a@b.example" or userName eq "c@d.example"',
        'userName eq unquoted',
        '(userName eq "a@b.example")',
      ]) {
        expectScimError(
          await scim(service, 'GET', `/Users?filter=${encodeURIComponent(filter)}`, token),
          400,
          'invalidFilter',
        );
      }
    });

    it('filters by the work email and by terms joined with and', async () => {
      const { id } = await createUser('joined@acme.example', 'J-1');
      const byEmail = await scim(
        service,
        'GET',
        `/Users?filter=${encodeURIComponent('emails[type eq "work"].value eq "JOINED@acme.example"')}`,
        token,
      );
      expect(byEmail.json().Resources.map((user: { id: string }) => user.id)).toEqual([id]);
      const both = await scim(
        service,
        'GET',
        `/Users?filter=${encodeURIComponent('userName eq "joined@acme.example" and externalId eq "00uJ-1"')}`,
        token,
      );
      expect(both.json().totalResults).toBe(1);
      const neither = await scim(
        service,
        'GET',
        `/Users?filter=${encodeURIComponent('userName eq "joined@acme.example" AND externalId eq "other"')}`,
        token,
      );
      expect(neither.json().totalResults).toBe(0);
    });

    it('refuses a PATCH of more than 50 operations with 400 invalidValue, running none of them', async () => {
      const { id } = await createUser('many@acme.example', 'M-1');
      const operations = Array.from({ length: 51 }, (_, index) => ({
        op: 'replace',
        path: 'name.givenName',
        value: `N${index}`,
      }));
      expectScimError(
        await scim(service, 'PATCH', `/Users/${id}`, token, patch(...operations)),
        400,
        'invalidValue',
      );
      const thousand = Array.from({ length: 1000 }, () => ({ op: 'replace', path: 'active', value: false }));
      expectScimError(
        await scim(service, 'PATCH', `/Users/${id}`, token, patch(...thousand)),
        400,
        'invalidValue',
      );
      expect((await scim(service, 'GET', `/Users/${id}`, token)).json()).toMatchObject({
        active: true,
        name: { givenName: 'Ada' },
      });
    });

    it('answers noTarget for a remove without a path and a replace whose filter matches nothing; invalidPath for a bad path', async () => {
      const { id } = await createUser('targets@acme.example', 'N-1');
      expectScimError(
        await scim(service, 'PATCH', `/Users/${id}`, token, patch({ op: 'remove' })),
        400,
        'noTarget',
      );
      const noPhone = patch({ op: 'replace', path: 'phoneNumbers[type eq "work"].value', value: '555 0100' });
      expectScimError(await scim(service, 'PATCH', `/Users/${id}`, token, noPhone), 400, 'noTarget');
      expectScimError(
        await scim(
          service,
          'PATCH',
          `/Users/${id}`,
          token,
          patch({ op: 'replace', path: 'emails[type eq', value: 'x' }),
        ),
        400,
        'invalidPath',
      );
      expectScimError(
        await scim(
          service,
          'PATCH',
          `/Users/${id}`,
          token,
          patch({ op: 'move', path: 'active', value: false }),
        ),
        400,
        'invalidValue',
      );
    });

    it('answers an unknown SCIM endpoint with a SCIM 404, and another method on a known one with 405', async () => {
      expectScimError(await scim(service, 'GET', '/Groups', token), 404);
      const wrongMethod = await scim(service, 'DELETE', '/Users', token);
      expectScimError(wrongMethod, 405);
      expect(wrongMethod.headers.allow).toContain('GET');
    });
  });

  describe('replace', () => {
    it('clears by PUT what the body leaves out (phone, externalId), and keeps active when the body leaves it out', async () => {
      const created = await scim(service, 'POST', '/Users', token, {
        ...oktaUser('replace@acme.example', 'RP-1'),
        phoneNumbers: [{ value: '+1 555 0199', type: 'work' }],
      });
      const { id } = created.json();
      expect(created.json().phoneNumbers).toEqual([{ value: '+1 555 0199', type: 'work', primary: true }]);
      await scim(service, 'PATCH', `/Users/${id}`, token, patch({ op: 'replace', value: { active: false } }));
      const {
        active: _active,
        externalId: _externalId,
        ...withoutActive
      } = oktaUser('replace@acme.example', 'RP-1');
      const replaced = await scim(service, 'PUT', `/Users/${id}`, token, withoutActive);
      expect(replaced.statusCode, replaced.body).toBe(200);
      const user = replaced.json();
      expect(user.active).toBe(false);
      expect(user.phoneNumbers).toBeUndefined();
      expect(user.externalId).toBeUndefined();
    });
  });

  describe('deprovisioning', () => {
    it("takes a rep's access away at once when the directory deactivates it, and back when it activates it", async () => {
      const { organization, token: own } = await scimTenant(service, 'Deprovisioned Distributors');
      const { id } = (
        await scim(service, 'POST', '/Users', own, oktaUser('leaver@acme.example', 'D-1'))
      ).json();
      const person = await service.db
        .selectFrom('organization_sales_rep as a')
        .innerJoin('sales_rep as r', 'r.id', 'a.sales_rep_id')
        .select('r.identity_provider_user_id')
        .where('a.id', '=', id)
        .executeTakeFirstOrThrow();
      const rep = await service.token(organization, person.identity_provider_user_id, ['SalesRep']);
      expect((await service.call('GET', '/api/salesreps/organizations', rep)).statusCode).toBe(200);
      await scim(service, 'PATCH', `/Users/${id}`, own, patch({ op: 'replace', value: { active: false } }));
      expect((await service.call('GET', '/api/salesreps/organizations', rep)).statusCode).toBe(403);
      await scim(
        service,
        'PATCH',
        `/Users/${id}`,
        own,
        patch({ op: 'replace', path: 'active', value: true }),
      );
      expect((await service.call('GET', '/api/salesreps/organizations', rep)).statusCode).toBe(200);
    });
  });

  describe('paging', () => {
    it('pages by startIndex and count, at most 100 a page, count=0 giving only the total', async () => {
      const paged = await scimTenant(service, 'Paged Distributors');
      for (const number of ['P-1', 'P-2', 'P-3'])
        await createUser(`${number}@paged.example`, number, paged.token);
      const second = (await scim(service, 'GET', '/Users?startIndex=2&count=1', paged.token)).json();
      expect(second).toMatchObject({ totalResults: 3, startIndex: 2, itemsPerPage: 1 });
      expect(second.Resources[0][ENTERPRISE].employeeNumber).toBe('P-2');
      const totalOnly = (await scim(service, 'GET', '/Users?count=0', paged.token)).json();
      expect(totalOnly).toMatchObject({ totalResults: 3, itemsPerPage: 0, Resources: [] });
      const clamped = (await scim(service, 'GET', '/Users?startIndex=0&count=1000', paged.token)).json();
      expect(clamped).toMatchObject({ startIndex: 1, itemsPerPage: 3 });
    });
  });

  describe('discovery', () => {
    it('describes exactly what is supported: PATCH and filter yes, bulk, sort, ETags and password change no', async () => {
      const config = await scim(service, 'GET', '/ServiceProviderConfig', token);
      expect(config.statusCode).toBe(200);
      expect(config.json()).toMatchObject({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
        patch: { supported: true },
        filter: { supported: true, maxResults: 100 },
        bulk: { supported: false },
        sort: { supported: false },
        etag: { supported: false },
        changePassword: { supported: false },
        authenticationSchemes: [expect.objectContaining({ type: 'oauthbearertoken' })],
        meta: {
          resourceType: 'ServiceProviderConfig',
          location: 'http://127.0.0.1:3000/scim/v2/ServiceProviderConfig',
        },
      });
      const types = (await scim(service, 'GET', '/ResourceTypes', token)).json();
      expect(types.Resources).toEqual([
        expect.objectContaining({
          id: 'User',
          endpoint: '/Users',
          schemaExtensions: [{ schema: ENTERPRISE, required: true }],
        }),
      ]);
      const schemas = (await scim(service, 'GET', '/Schemas', token)).json();
      expect(schemas.Resources.map((schema: { id: string }) => schema.id)).toEqual([
        'urn:ietf:params:scim:schemas:core:2.0:User',
        ENTERPRISE,
      ]);
      const enterprise = (await scim(service, 'GET', `/Schemas/${ENTERPRISE}`, token)).json();
      expect(enterprise.attributes).toEqual([
        expect.objectContaining({ name: 'employeeNumber', required: true }),
      ]);
      expectScimError(await scim(service, 'GET', '/Schemas/urn:example:unknown', token), 404);
    });

    it('puts meta (resourceType, created, lastModified, location) on every User, lastModified moving with a change', async () => {
      const created = await scim(service, 'POST', '/Users', token, oktaUser('meta@acme.example', 'MT-1'));
      const { id, meta } = created.json();
      expect(meta.created).toBe(meta.lastModified);
      await scim(
        service,
        'PATCH',
        `/Users/${id}`,
        token,
        patch({ op: 'replace', path: 'name.givenName', value: 'Changed' }),
      );
      const changed = (await scim(service, 'GET', `/Users/${id}`, token)).json().meta;
      expect(changed.created).toBe(meta.created);
      expect(Date.parse(changed.lastModified)).toBeGreaterThan(Date.parse(meta.created));
    });
  });
});

describe.each(databaseKinds)('SCIM rate limit on %s', (kind) => {
  let service: TestService;

  beforeAll(async () => {
    service = await startTestService(kind, { RATE_LIMIT_MAX: '3' });
  });
  afterAll(() => service.close());

  it('answers the request past the limit with a SCIM 429 and Retry-After, counted per token', async () => {
    const { token } = await scimTenant(service);
    for (let index = 0; index < 3; index++)
      expect((await scim(service, 'GET', '/Users', token)).statusCode).toBe(200);
    const limited = await scim(service, 'GET', '/Users', token);
    expectScimError(limited, 429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    const { token: another } = await scimTenant(service, 'Another');
    expect((await scim(service, 'GET', '/Users', another)).statusCode).toBe(200);
  });
});

describe.each(databaseKinds)('SCIM changes and webhooks on %s', (kind) => {
  let service: TestService;

  beforeAll(async () => {
    service = await startTestService(kind, { WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true' });
  });
  afterAll(() => service.close());

  it("fires the organization's webhooks for a SCIM change as for the API's", async () => {
    const { organization, admin, token } = await scimTenant(service);
    const webhook = await service.call('POST', '/api/organizations/webhooks', admin, {
      url: 'http://127.0.0.1:9/hooks',
      eventTypes: ['sales_rep.created', 'sales_rep.deactivated'],
    });
    expect(webhook.statusCode, webhook.body).toBe(201);
    const { id } = (
      await scim(service, 'POST', '/Users', token, oktaUser('hooked@acme.example', 'H-1'))
    ).json();
    await scim(service, 'PATCH', `/Users/${id}`, token, patch({ op: 'replace', value: { active: false } }));
    const deliveries = await service.db
      .selectFrom('effect')
      .select('payload')
      .where('kind', '=', 'webhook.deliver')
      .where('organization_id', '=', organization.id)
      .execute();
    expect(deliveries).toHaveLength(2);
  });
});
