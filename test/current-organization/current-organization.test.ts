import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { databaseKinds } from '../support/databases.js';
import { REPS_URL } from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/service.js';

const URL = '/api/organizations/current';

describe.each(databaseKinds)("the caller's organization on %s", (kind) => {
  let service: TestService;
  let acme: Organization;
  let other: Organization;

  beforeAll(async () => {
    service = await startTestService(kind);
    acme = await service.createOrganization('Acme Supply');
    other = await service.createOrganization('Other Supply');
  });
  afterAll(() => service.close());
  afterEach(() => {
    expect(service.contract.takeUndeclared()).toEqual([]);
  });

  it("an Admin reads its token's organization by name and ids, and only that one", async () => {
    const response = await service.call('GET', URL, await service.token(acme, 'acme-admin', ['Admin']));
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({
      organizationId: acme.id,
      organizationName: 'Acme Supply',
      identityOrganizationId: acme.identity_organization_id,
    });
    const theirs = await service.call('GET', URL, await service.token(other, 'other-admin', ['Admin']));
    expect(theirs.json().organizationName).toBe('Other Supply');
  });

  it('a SalesRep is refused with 403, a request without a token with 401', async () => {
    const admin = await service.token(acme, 'acme-admin', ['Admin']);
    const added = await service.call('PUT', REPS_URL, admin, {
      firstName: 'Jane',
      lastName: 'Smith',
      email: 'jane.smith@example.com',
      repNumber: 'REP-001',
    });
    expect(added.statusCode, added.body).toBe(200);
    const rep = await service.token(acme, added.json().identityProviderUserId, ['SalesRep']);
    const refused = await service.call('GET', URL, rep);
    expect(refused.statusCode).toBe(403);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    const anonymous = await service.app.inject({ method: 'GET', url: URL });
    expect(anonymous.statusCode).toBe(401);
  });
});
