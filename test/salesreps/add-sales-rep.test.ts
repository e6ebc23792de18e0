import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { databaseKinds } from '../support/databases.js';
import { startTestService, type TestService } from '../support/service.js';

const URL = '/api/organizations/salesreps';

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
    const response = await service.call('PUT', URL, admin, {
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
    const response = await service.call('PUT', URL, admin, {
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
    expect(effects.map((effect) => effect.kind)).toEqual(['identity.provision', 'email.welcome', 'sync.grant']);
    expect(effects.every((effect) => effect.status === 'pending')).toBe(true);
    expect(effects[0]?.payload).toMatchObject({
      identityProviderUserId: response.json().identityProviderUserId,
      identityOrganizationId: organization.identity_organization_id,
      roles: ['SalesRep'],
    });
  });

  it('rejects a duplicate rep number in the organization with 409 and writes nothing', async () => {
    const response = await service.call('PUT', URL, admin, {
      firstName: 'Other',
      lastName: 'Person',
      email: 'other@example.com',
      repNumber: 'REP-001',
    });
    expect(response.statusCode).toBe(409);
    expect(response.headers['content-type']).toContain('application/problem+json');
    const reps = await service.db.selectFrom('sales_rep').select('id').where('email', '=', 'other@example.com').execute();
    expect(reps).toEqual([]);
  });
});
