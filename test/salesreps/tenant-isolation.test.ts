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
import { tableCounts } from './fixtures.js';

/** Every endpoint, with a body that would be valid if the assignment id were the caller's. */
function endpoints(assignmentId: string) {
  return [
    { method: 'GET', url: REPS_URL, body: undefined },
    { method: 'PUT', url: REPS_URL, body: newRep() },
    { method: 'PATCH', url: REPS_URL, body: { organizationSalesRepId: assignmentId, repNumber: 'REP-X' } },
    { method: 'POST', url: `${REPS_URL}/activate`, body: { organizationSalesRepId: assignmentId } },
    { method: 'POST', url: `${REPS_URL}/deactivate`, body: { organizationSalesRepId: assignmentId } },
    { method: 'DELETE', url: REPS_URL, body: { organizationSalesRepId: assignmentId } },
    { method: 'GET', url: MY_ORGANIZATIONS_URL, body: undefined },
  ] as const;
}

describe.each(databaseKinds)('tenant isolation and policies on %s', (kind) => {
  let service: TestService;
  let mine: Organization;
  let theirs: Organization;
  let myAdmin: string;
  let theirRep: AddedRep;
  let myRep: AddedRep;

  beforeAll(async () => {
    service = await startTestService(kind);
    mine = await service.createOrganization('Mine Inc');
    theirs = await service.createOrganization('Theirs Ltd');
    myAdmin = await service.token(mine, 'admin-mine', ['Admin']);
    myRep = await addRep(service, myAdmin, newRep());
    theirRep = await addRep(service, await service.token(theirs, 'admin-theirs', ['Admin']), newRep());
  });
  afterAll(() => service.close());

  async function theirAssignment() {
    return service.db
      .selectFrom('organization_sales_rep')
      .select(['rep_number', 'active'])
      .where('id', '=', theirRep.organizationSalesRepId)
      .executeTakeFirst();
  }

  it.each([
    ['PATCH', REPS_URL, { repNumber: 'STOLEN' }],
    ['POST', `${REPS_URL}/activate`, {}],
    ['POST', `${REPS_URL}/deactivate`, {}],
    ['DELETE', REPS_URL, {}],
  ] as const)(
    "%s %s with another tenant's assignment id answers 404 (never 403) and changes nothing",
    async (method, url, extra) => {
      const before = await tableCounts(service.db);
      const response = await service.call(method, url, myAdmin, {
        organizationSalesRepId: theirRep.organizationSalesRepId,
        ...extra,
      });
      expectProblem(response, 404);
      expect(response.body).not.toContain(theirs.id);
      expect(response.body).not.toContain(theirRep.salesRepId);
      expect(await tableCounts(service.db)).toEqual(before);
      expect(await theirAssignment()).toEqual({ rep_number: theirRep.repNumber, active: true });
    },
  );

  it("DELETE with another tenant's id in the query answers 404 and removes nothing", async () => {
    const response = await service.call(
      'DELETE',
      `${REPS_URL}?organizationSalesRepId=${theirRep.organizationSalesRepId}`,
      myAdmin,
    );
    expectProblem(response, 404);
    expect(await theirAssignment()).toBeDefined();
  });

  it('GET /api/organizations/salesreps shows nothing of another tenant, not even in the total', async () => {
    const response = await service.call('GET', REPS_URL, myAdmin);
    expect(response.headers['x-total-count']).toBe('1');
    expect(response.json()).toEqual([
      expect.objectContaining({ organizationSalesRepId: myRep.organizationSalesRepId }),
    ]);
  });

  it("GET /api/salesreps/organizations with my rep's user id and another tenant's organization answers 403", async () => {
    const token = await service.token(theirs, myRep.identityProviderUserId, ['SalesRep']);
    expectProblem(await service.call('GET', MY_ORGANIZATIONS_URL, token), 403);
  });

  it('PUT writes only into the organization of the token', async () => {
    const added = await addRep(service, myAdmin, newRep());
    expect(added.organizationId).toBe(mine.id);
    const theirs_ = await service.db
      .selectFrom('organization_sales_rep')
      .select('id')
      .where('organization_id', '=', theirs.id)
      .execute();
    expect(theirs_).toHaveLength(1);
  });

  it.each(endpoints('x').map((endpoint) => [`${endpoint.method} ${endpoint.url}`, endpoint] as const))(
    '%s answers 401 with WWW-Authenticate: Bearer without a valid token',
    async (_name, endpoint) => {
      for (const authorization of [undefined, 'Bearer', 'Bearer not.a.jwt', `Basic ${myAdmin}`]) {
        const response = await service.app.inject({
          method: endpoint.method,
          url: endpoint.url,
          headers: authorization ? { authorization } : {},
          ...(endpoint.body ? { payload: endpoint.body } : {}),
        });
        expectProblem(response, 401);
        expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
      }
    },
  );

  it.each(endpoints('x').map((endpoint) => [`${endpoint.method} ${endpoint.url}`, endpoint] as const))(
    '%s answers 403 for a token of an organization the service does not know, or with neither role',
    async (_name, endpoint) => {
      const before = await tableCounts(service.db);
      for (const token of [
        await service.token('org_unknown_to_us', 'admin-x', ['Admin', 'SalesRep']),
        await service.token(mine, myRep.identityProviderUserId, []),
        await service.token(mine, myRep.identityProviderUserId, ['Owner']),
      ]) {
        expectProblem(await service.call(endpoint.method, endpoint.url, token, endpoint.body), 403);
      }
      expect(await tableCounts(service.db)).toEqual(before);
    },
  );

  it.each(
    endpoints('x')
      .filter((endpoint) => endpoint.url !== MY_ORGANIZATIONS_URL)
      .map((endpoint) => [`${endpoint.method} ${endpoint.url}`, endpoint] as const),
  )('%s answers 403 to an active SalesRep token (an Admin endpoint)', async (_name, endpoint) => {
    const token = await service.token(mine, myRep.identityProviderUserId, ['SalesRep']);
    const body =
      endpoint.body && 'organizationSalesRepId' in endpoint.body
        ? { ...endpoint.body, organizationSalesRepId: myRep.organizationSalesRepId }
        : endpoint.body;
    const before = await tableCounts(service.db);
    expectProblem(await service.call(endpoint.method, endpoint.url, token, body), 403);
    expect(await tableCounts(service.db)).toEqual(before);
  });
});
