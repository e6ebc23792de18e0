import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { databaseKinds } from '../support/databases.js';
import {
  type AddedRep,
  addRep,
  expectProblem,
  MY_ORGANIZATIONS_URL,
  newRep,
  REPS_URL,
} from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/service.js';

const ITEM_FIELDS = [
  'organizationId',
  'organizationName',
  'identityOrganizationId',
  'identityProviderUserId',
  'organizationSalesRepId',
  'salesRepId',
  'repNumber',
  'firstName',
  'lastName',
  'email',
  'phoneNumber',
  'active',
].sort();

describe.each(databaseKinds)('GET /api/salesreps/organizations on %s', (kind) => {
  let service: TestService;
  // Named so that byte order (uppercase first) differs from creation order and from case-insensitive order.
  let zeta: Organization;
  let beta: Organization;
  let alpha: Organization;
  let assignments: Map<string, AddedRep>;
  let userId: string;

  beforeAll(async () => {
    service = await startTestService(kind);
    zeta = await service.createOrganization('Zeta Wholesale');
    alpha = await service.createOrganization('alpha foods');
    beta = await service.createOrganization('Beta Supply');
    const email = `multi.${Date.now()}@example.com`;
    assignments = new Map();
    for (const [i, org] of [zeta, alpha, beta].entries()) {
      const admin = await service.token(org, `admin-${i}`, ['Admin']);
      const rep = await addRep(
        service,
        admin,
        newRep({ email, firstName: 'Multi', lastName: 'Org', phoneNumber: '555-0100', repNumber: `M-${i}` }),
      );
      assignments.set(org.id, rep);
      // Another rep in the same organization, who must not show up in this rep's list.
      await addRep(service, admin, newRep());
    }
    userId = (assignments.get(zeta.id) as AddedRep).identityProviderUserId;
    const betaAdmin = await service.token(beta, 'admin-beta', ['Admin']);
    const deactivated = await service.call('POST', `${REPS_URL}/deactivate`, betaAdmin, {
      organizationSalesRepId: assignments.get(beta.id)?.organizationSalesRepId,
    });
    expect(deactivated.statusCode).toBe(200);
  });
  afterAll(() => service.close());

  it('lists every assignment of the rep, active or not, ordered by organizationName, with exactly the documented fields', async () => {
    const token = await service.token(zeta, userId, ['SalesRep']);
    const response = await service.call('GET', MY_ORGANIZATIONS_URL, token);
    expect(response.statusCode).toBe(200);
    const body = response.json() as { salesRepOrganizations: Record<string, unknown>[] };
    expect(Object.keys(body)).toEqual(['salesRepOrganizations']);
    for (const item of body.salesRepOrganizations) expect(Object.keys(item).sort()).toEqual(ITEM_FIELDS);
    expect(body.salesRepOrganizations).toEqual(
      [beta, zeta, alpha].map((org) => {
        const rep = assignments.get(org.id) as AddedRep;
        return {
          organizationId: org.id,
          organizationName: org.name,
          identityOrganizationId: org.identity_organization_id,
          identityProviderUserId: userId,
          organizationSalesRepId: rep.organizationSalesRepId,
          salesRepId: rep.salesRepId,
          repNumber: rep.repNumber,
          firstName: 'Multi',
          lastName: 'Org',
          email: rep.email,
          phoneNumber: '555-0100',
          active: org !== beta,
        };
      }),
    );
  });

  it("accepts an Admin token whose user is an active rep of the token's organization", async () => {
    const token = await service.token(alpha, userId, ['Admin']);
    const response = await service.call('GET', MY_ORGANIZATIONS_URL, token);
    expect(response.statusCode).toBe(200);
    expect(response.json().salesRepOrganizations).toHaveLength(3);
  });

  it("refuses (403) a rep deactivated in the token's organization, though active elsewhere, with either role", async () => {
    for (const roles of [['SalesRep'], ['Admin'], ['Admin', 'SalesRep']]) {
      expectProblem(
        await service.call('GET', MY_ORGANIZATIONS_URL, await service.token(beta, userId, roles)),
        403,
      );
    }
  });

  it('answers 200 with an empty list to a caller who is no rep at all, whether the token says SalesRep or Admin', async () => {
    for (const roles of [['SalesRep'], ['Admin']]) {
      const token = await service.token(zeta, 'not-a-rep', roles);
      const response = await service.call('GET', MY_ORGANIZATIONS_URL, token);
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ salesRepOrganizations: [] });
    }
  });

  it('refuses (403) a removed rep whose token still names the organization while it is a rep elsewhere', async () => {
    const admin = await service.token(zeta, 'admin-removal', ['Admin']);
    const rep = await addRep(service, admin, newRep());
    const other = await service.createOrganization('Second Home');
    const otherAdmin = await service.token(other, 'admin-second', ['Admin']);
    const again = await service.call('PUT', REPS_URL, otherAdmin, newRep({ email: rep.email }));
    expect(again.statusCode).toBe(200);
    const removed = await service.call('DELETE', REPS_URL, admin, {
      organizationSalesRepId: rep.organizationSalesRepId,
    });
    expect(removed.statusCode).toBe(200);
    const token = await service.token(zeta, rep.identityProviderUserId, ['SalesRep']);
    // Still a rep (of the second organization), but not of the token's organization.
    expectProblem(await service.call('GET', MY_ORGANIZATIONS_URL, token), 403);
  });

  it("refuses (403) a rep's token for an organization the rep does not belong to", async () => {
    const other = await service.createOrganization('Unrelated Co');
    expectProblem(
      await service.call('GET', MY_ORGANIZATIONS_URL, await service.token(other, userId, ['SalesRep'])),
      403,
    );
  });

  it('refuses (403) a token with neither role, even for an active rep', async () => {
    expectProblem(
      await service.call('GET', MY_ORGANIZATIONS_URL, await service.token(zeta, userId, ['Viewer'])),
      403,
    );
  });

  it('rejects any query parameter with 400 naming it', async () => {
    const token = await service.token(zeta, userId, ['SalesRep']);
    expectProblem(await service.call('GET', `${MY_ORGANIZATIONS_URL}?userId=someone-else`, token), 400, [
      'userId',
    ]);
  });
});
