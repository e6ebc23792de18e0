import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { databaseKinds } from '../support/databases.js';
import { MY_ORGANIZATIONS_URL, REPS_URL } from '../support/fixtures.js';
import type { RecordedRoute } from '../support/route-contract.js';
import { startTestService, type TestService } from '../support/service.js';

/** A route's URL with its path parameters filled in. */
const concrete = (route: RecordedRoute) => route.url.replace(/:(\w+)/g, 'C-1');

describe.each(databaseKinds)('policies on %s', (kind) => {
  let service: TestService;
  let organization: Organization;
  let admin: string;
  let guarded: RecordedRoute[];
  let rep: { organizationSalesRepId: string; identityProviderUserId: string };

  beforeAll(async () => {
    service = await startTestService(kind);
    organization = await service.createOrganization('Policy Supplies');
    admin = await service.token(organization, 'policy-admin', ['Admin']);
    // The API's token policies; the SCIM routes take SCIM tokens only (test/scim/tokens.test.ts).
    guarded = service.contract
      .routes()
      .filter((route) => route.policy !== 'public' && route.policy !== 'Scim');
    const added = await service.call('PUT', REPS_URL, admin, {
      firstName: 'Active',
      lastName: 'Rep',
      email: 'active.rep@example.com',
      repNumber: 'P-1',
    });
    expect(added.statusCode, added.body).toBe(200);
    rep = added.json();
  });
  afterAll(() => service.close());
  afterEach(() => {
    expect(service.contract.takeUndeclared()).toEqual([]);
  });

  /** Calls every route of the list with the token, a body where the method takes one, and collects answers. */
  const callEach = async (routes: RecordedRoute[], token: string) => {
    const answers: string[] = [];
    for (const route of routes) {
      const hasBody = !['GET', 'DELETE'].includes(route.method);
      const response = await service.call(
        route.method as 'GET',
        concrete(route),
        token,
        hasBody ? { organizationSalesRepId: rep.organizationSalesRepId } : undefined,
      );
      expect(response.headers['content-type'], `${route.method} ${route.url}`).toMatch(
        /^application\/problem\+json/,
      );
      answers.push(`${route.method} ${route.url} ${response.statusCode}`);
    }
    return answers;
  };
  const expectAll = (answers: string[], status: number) =>
    expect(answers).toEqual(answers.map((answer) => answer.replace(/\d{3}$/, String(status))));

  it('guards every API route: the seven endpoints and the rest', () => {
    const urls = guarded.map((route) => `${route.method} ${route.url}`);
    expect(urls).toEqual(
      expect.arrayContaining([
        `GET ${MY_ORGANIZATIONS_URL}`,
        `GET ${REPS_URL}`,
        `PUT ${REPS_URL}`,
        `PATCH ${REPS_URL}`,
        `POST ${REPS_URL}/activate`,
        `POST ${REPS_URL}/deactivate`,
        `DELETE ${REPS_URL}`,
      ]),
    );
    expect(guarded.every((route) => route.url.startsWith('/api/'))).toBe(true);
    const scim = service.contract.routes().filter((route) => route.policy === 'Scim');
    expect(scim.length).toBeGreaterThan(0);
    expect(scim.every((route) => route.url.startsWith('/scim/v2/'))).toBe(true);
  });

  it('answers 403 on every endpoint to a token with neither role, even of a rep or an admin user', async () => {
    for (const roles of [[], ['Viewer'], ['admin', 'salesrep']]) {
      expectAll(await callEach(guarded, await service.token(organization, 'policy-admin', roles)), 403);
      expectAll(
        await callEach(guarded, await service.token(organization, rep.identityProviderUserId, roles)),
        403,
      );
    }
  });

  it('answers 403 on every Admin endpoint to an active SalesRep', async () => {
    const salesRep = await service.token(organization, rep.identityProviderUserId, ['SalesRep']);
    const adminRoutes = guarded.filter((route) => route.policy === 'Admin');
    expect(adminRoutes.length).toBeGreaterThanOrEqual(6);
    expectAll(await callEach(adminRoutes, salesRep), 403);
    expect((await service.call('GET', MY_ORGANIZATIONS_URL, salesRep)).statusCode).toBe(200);
  });

  it('answers 403 on every endpoint to a token of an organization the service does not know', async () => {
    for (const roles of [['Admin'], ['SalesRep'], ['Admin', 'SalesRep']]) {
      const stranger = await service.token('org_unknown_to_us', rep.identityProviderUserId, roles);
      expectAll(await callEach(guarded, stranger), 403);
    }
  });

  it('answers an Admin who is no rep at all with an empty list of its own organizations', async () => {
    const response = await service.call('GET', MY_ORGANIZATIONS_URL, admin);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ salesRepOrganizations: [] });
  });

  it('refuses a deactivated rep at once, with its token still valid, and admits it again once activated', async () => {
    const salesRep = await service.token(organization, rep.identityProviderUserId, ['SalesRep']);
    const mine = () => service.call('GET', MY_ORGANIZATIONS_URL, salesRep);
    expect((await mine()).statusCode).toBe(200);
    const body = { organizationSalesRepId: rep.organizationSalesRepId };
    expect((await service.call('POST', `${REPS_URL}/deactivate`, admin, body)).statusCode).toBe(200);
    const refused = await mine();
    expect(refused.statusCode).toBe(403);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect((await service.call('POST', `${REPS_URL}/activate`, admin, body)).statusCode).toBe(200);
    expect((await mine()).statusCode).toBe(200);
  });

  it('refuses a deleted rep at once, with its token still valid', async () => {
    const added = await service.call('PUT', REPS_URL, admin, {
      firstName: 'Soon',
      lastName: 'Gone',
      email: 'soon.gone@example.com',
      repNumber: 'P-2',
    });
    const gone = added.json();
    const salesRep = await service.token(organization, gone.identityProviderUserId, ['SalesRep']);
    expect((await service.call('GET', MY_ORGANIZATIONS_URL, salesRep)).statusCode).toBe(200);
    const removed = await service.call('DELETE', REPS_URL, admin, {
      organizationSalesRepId: gone.organizationSalesRepId,
    });
    expect(removed.statusCode).toBe(200);
    // No longer a rep anywhere: its own organizations are none, and every customer endpoint refuses it.
    const mine = await service.call('GET', MY_ORGANIZATIONS_URL, salesRep);
    expect(mine.statusCode).toBe(200);
    expect(mine.json()).toEqual({ salesRepOrganizations: [] });
    expect((await service.call('GET', '/api/customers', salesRep)).statusCode).toBe(403);
  });
});
