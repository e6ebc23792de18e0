import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSalesRepsClient } from '../../client/index.js';
import type { Organization } from '../../src/db/schema.js';
import { databaseKinds } from '../support/databases.js';
import { startTestService, type TestService } from '../support/service.js';

/**
 * A client generated from the service's own OpenAPI document (client/openapi.d.ts, openapi-fetch) drives a whole
 * journey over a real HTTP port: if the document drifted from what the service does, these calls would not
 * type-check or their answers would not match.
 */
describe.each(databaseKinds)('the generated client on %s', (kind) => {
  let service: TestService;
  let organization: Organization;
  let baseUrl: string;
  let admin: ReturnType<typeof createSalesRepsClient>;

  beforeAll(async () => {
    service = await startTestService(kind);
    await service.app.listen({ host: '127.0.0.1', port: 0 });
    baseUrl = `http://127.0.0.1:${(service.app.server.address() as AddressInfo).port}`;
    organization = await service.createOrganization('Journey Distributors');
    admin = createSalesRepsClient({
      baseUrl,
      token: await service.token(organization, 'journey-admin', ['Admin']),
    });
  });
  afterAll(() => service.close());
  afterEach(() => {
    expect(service.contract.takeUndeclared()).toEqual([]);
  });

  it('adds a rep, lists it with typed headers, changes its number, deactivates and removes it', async () => {
    const added = await admin.PUT('/api/organizations/salesreps', {
      body: {
        firstName: 'John',
        lastName: 'Doe',
        email: 'john.doe@example.com',
        phoneNumber: '123-456-7890',
        repNumber: 'REP-001',
        roles: ['SalesRep'],
      },
    });
    expect(added.response.status).toBe(200);
    const rep = added.data;
    if (!rep) throw new Error(`PUT answered ${added.response.status}: ${JSON.stringify(added.error)}`);
    expect(rep).toMatchObject({ organizationName: 'Journey Distributors', repNumber: 'REP-001' });
    expect(rep.identityProvider).toBe('Local');
    await admin.PUT('/api/organizations/salesreps', {
      body: { firstName: 'Mary', lastName: 'Doe', email: 'mary.doe@example.com', repNumber: 'MRY' },
    });

    const page = await admin.GET('/api/organizations/salesreps', {
      params: { query: { pageNumber: 1, pageSize: 1, sortOn: 'FirstName', sortDirection: 'desc' } },
    });
    expect(page.response.status).toBe(200);
    expect(page.data?.map((entry) => entry.firstName)).toEqual(['Mary']);
    expect(page.response.headers.get('x-total-count')).toBe('2');
    expect(page.response.headers.get('link')).toContain('rel="next"');
    expect(page.response.headers.get('x-ratelimit-limit')).toMatch(/^\d+$/);

    const changed = await admin.PATCH('/api/organizations/salesreps', {
      body: { organizationSalesRepId: rep.organizationSalesRepId, repNumber: 'REP-099' },
    });
    expect(changed.data).toMatchObject({ repNumber: 'REP-099', success: true });

    const repClient = createSalesRepsClient({
      baseUrl,
      token: await service.token(organization, rep.identityProviderUserId, ['SalesRep']),
    });
    const mine = await repClient.GET('/api/salesreps/organizations');
    expect(mine.data?.salesRepOrganizations).toEqual([
      expect.objectContaining({ organizationId: organization.id, repNumber: 'REP-099', active: true }),
    ]);

    const deactivated = await admin.POST('/api/organizations/salesreps/deactivate', {
      body: { organizationSalesRepId: rep.organizationSalesRepId },
    });
    expect(deactivated.response.status).toBe(200);
    expect(deactivated.data).toBeUndefined();
    const refused = await repClient.GET('/api/salesreps/organizations');
    expect(refused.response.status).toBe(403);
    expect(refused.response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.error).toMatchObject({ status: 403, type: 'urn:salesreps:problem:forbidden' });

    // The document says the DELETE body is optional: the id in the query alone is enough.
    const removed = await admin.DELETE('/api/organizations/salesreps', {
      params: { query: { organizationSalesRepId: rep.organizationSalesRepId } },
    });
    expect(removed.data).toEqual({ success: true });
    const after = await admin.GET('/api/organizations/salesreps');
    expect(after.data?.map((entry) => entry.email)).toEqual(['mary.doe@example.com']);
    expect(after.response.headers.get('x-total-count')).toBe('1');
  });

  it('gets every error as a typed problem naming the field', async () => {
    const invalid = await admin.PUT('/api/organizations/salesreps', {
      body: { firstName: 'No', lastName: 'Email', email: 'not-an-email', repNumber: 'X-1' },
    });
    expect(invalid.response.status).toBe(400);
    expect(invalid.error?.errors).toEqual([{ field: 'email', message: expect.any(String) }]);
  });
});
