import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { databaseKinds } from '../support/databases.js';
import { CUSTOMERS_URL, REPS_URL } from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/service.js';
import { addRepWithToken, numbersOf, putCustomers, type TestRep } from './support.js';

/**
 * The rule under test (`docs/api.md`, "Words": assigned customers): a SalesRep token sees exactly the customers of the
 * token's organization whose repNumber equals its active assignment's repNumber there; an Admin sees all of its
 * organization's customers and nothing of another organization's.
 */
describe.each(databaseKinds)('the customer scope of each caller on %s', (kind) => {
  let service: TestService;
  let orgA: Organization;
  let orgB: Organization;
  let adminA: string;
  let adminB: string;
  let r1: TestRep;
  let r2: TestRep;
  let r1InB: TestRep;

  beforeAll(async () => {
    service = await startTestService(kind);
    orgA = await service.createOrganization('Org A');
    orgB = await service.createOrganization('Org B');
    adminA = await service.token(orgA, 'admin-a', ['Admin']);
    adminB = await service.token(orgB, 'admin-b', ['Admin']);
    r1 = await addRepWithToken(service, orgA, adminA, { email: 'r1@example.com', repNumber: 'R-1' });
    r2 = await addRepWithToken(service, orgA, adminA, { email: 'r2@example.com', repNumber: 'R-2' });
    // The same person (same email, so the same identity provider user) in org B under another number.
    r1InB = await addRepWithToken(service, orgB, adminB, { email: 'r1@example.com', repNumber: 'B-7' });
    expect(r1InB.identityProviderUserId).toBe(r1.identityProviderUserId);

    await putCustomers(service, adminA, [
      { customerNumber: 'A-100', companyName: 'Alpha Foods', repNumber: 'R-1' },
      { customerNumber: 'A-101', companyName: 'Alpine Supply', repNumber: 'R-1' },
      { customerNumber: 'A-200', companyName: 'Almond Traders', repNumber: 'R-2' },
      { customerNumber: 'A-300', companyName: 'Orphan Ltd', repNumber: 'R-9' },
      { customerNumber: 'A-301', companyName: 'Nobody Inc' },
      // Carries R1's org-B number, but lives in org A: R1 must not see it through its org-B token.
      { customerNumber: 'A-400', companyName: 'Bravo Wholesale', repNumber: 'B-7' },
    ]);
    await putCustomers(service, adminB, [
      { customerNumber: 'B-100', companyName: 'Alpha Beverages', repNumber: 'B-7' },
      // Carries R1's org-A number, but lives in org B, where R1 holds B-7.
      { customerNumber: 'B-200', companyName: 'Gamma Goods', repNumber: 'R-1' },
    ]);
  });
  afterAll(() => service.close());

  const list = (token: string, query = '') => service.call('GET', `${CUSTOMERS_URL}${query}`, token);
  const get = (token: string, customerNumber: string) =>
    service.call('GET', `${CUSTOMERS_URL}/${encodeURIComponent(customerNumber)}`, token);

  /**
   * One row of the matrix: the caller's answers to {list, search "al", filter by another rep's number, get own,
   * get another's, get another org's}. A number list means 200 with exactly those customers; a status means that
   * status (with a problem body).
   */
  interface Row {
    list: string[] | number;
    search: string[] | number;
    filterOther: { repNumber: string; expected: string[] | number };
    getOwn: { customerNumber: string; status: number };
    getAnothers: { customerNumber: string; status: number };
    getOtherOrgs: { customerNumber: string; status: number };
  }

  async function assertRow(token: string, row: Row) {
    const expectList = async (response: Awaited<ReturnType<typeof list>>, expected: string[] | number) => {
      if (typeof expected === 'number') {
        expect(response.statusCode, response.body).toBe(expected);
        expect(response.headers['content-type']).toContain('application/problem+json');
      } else {
        expect(numbersOf(response)).toEqual(expected);
        expect(response.headers['x-total-count']).toBe(String(expected.length));
      }
    };
    await expectList(await list(token), row.list);
    await expectList(await list(token, '?search=al'), row.search);
    await expectList(
      await list(token, `?repNumber=${encodeURIComponent(row.filterOther.repNumber)}`),
      row.filterOther.expected,
    );
    for (const cell of [row.getOwn, row.getAnothers, row.getOtherOrgs]) {
      const response = await get(token, cell.customerNumber);
      expect(response.statusCode, `GET ${cell.customerNumber}: ${response.body}`).toBe(cell.status);
      if (cell.status === 200) expect(response.json().customerNumber).toBe(cell.customerNumber);
    }
  }

  it('Admin of org A: all of org A (reps, orphans, unassigned), nothing of org B', async () => {
    await assertRow(adminA, {
      list: ['A-100', 'A-101', 'A-200', 'A-300', 'A-301', 'A-400'],
      search: ['A-100', 'A-101', 'A-200'],
      filterOther: { repNumber: 'R-2', expected: ['A-200'] },
      getOwn: { customerNumber: 'A-100', status: 200 },
      getAnothers: { customerNumber: 'A-300', status: 200 },
      getOtherOrgs: { customerNumber: 'B-100', status: 404 },
    });
  });

  it('Admin of org B: all of org B, nothing of org A', async () => {
    await assertRow(adminB, {
      list: ['B-100', 'B-200'],
      search: ['B-100'],
      filterOther: { repNumber: 'R-1', expected: ['B-200'] },
      getOwn: { customerNumber: 'B-100', status: 200 },
      getAnothers: { customerNumber: 'B-200', status: 200 },
      getOtherOrgs: { customerNumber: 'A-100', status: 404 },
    });
  });

  it("rep R1 (active in A): only org A's R-1 customers; another rep's number gives an empty page", async () => {
    await assertRow(r1.token, {
      list: ['A-100', 'A-101'],
      search: ['A-100', 'A-101'],
      filterOther: { repNumber: 'R-2', expected: [] },
      getOwn: { customerNumber: 'A-101', status: 200 },
      getAnothers: { customerNumber: 'A-200', status: 404 },
      getOtherOrgs: { customerNumber: 'B-100', status: 404 },
    });
    // Its own number as the filter narrows nothing away.
    expect(numbersOf(await list(r1.token, '?repNumber=R-1'))).toEqual(['A-100', 'A-101']);
  });

  it("rep R2 (active in A, another number): only org A's R-2 customers", async () => {
    await assertRow(r2.token, {
      list: ['A-200'],
      search: ['A-200'],
      filterOther: { repNumber: 'R-1', expected: [] },
      getOwn: { customerNumber: 'A-200', status: 200 },
      getAnothers: { customerNumber: 'A-100', status: 404 },
      getOtherOrgs: { customerNumber: 'B-100', status: 404 },
    });
  });

  it('a customer whose repNumber matches no rep, or none, is seen by no rep', async () => {
    for (const rep of [r1, r2]) {
      expect((await get(rep.token, 'A-300')).statusCode).toBe(404);
      expect((await get(rep.token, 'A-301')).statusCode).toBe(404);
      expect(numbersOf(await list(rep.token, '?repNumber=R-9'))).toEqual([]);
    }
  });

  it('rep R1 deactivated in A: 403 on every customer request at once, with the token it already holds', async () => {
    const response = await service.call('POST', `${REPS_URL}/deactivate`, adminA, {
      organizationSalesRepId: r1.organizationSalesRepId,
    });
    expect(response.statusCode).toBe(200);
    await assertRow(r1.token, {
      list: 403,
      search: 403,
      filterOther: { repNumber: 'R-2', expected: 403 },
      getOwn: { customerNumber: 'A-100', status: 403 },
      getAnothers: { customerNumber: 'A-200', status: 403 },
      getOtherOrgs: { customerNumber: 'B-100', status: 403 },
    });
    // Its customers are the Admin's alone now.
    expect(numbersOf(await list(adminA, '?repNumber=R-1'))).toEqual(['A-100', 'A-101']);
  });

  it("rep R1 in org B (another number, still active there): only org B's B-7 customers", async () => {
    await assertRow(r1InB.token, {
      list: ['B-100'],
      search: ['B-100'],
      // B-200 carries R-1, R1's number in org A: asking for it never widens the org-B scope.
      filterOther: { repNumber: 'R-1', expected: [] },
      getOwn: { customerNumber: 'B-100', status: 200 },
      getAnothers: { customerNumber: 'B-200', status: 404 },
      getOtherOrgs: { customerNumber: 'A-400', status: 404 },
    });
  });

  it('reactivating R1 gives its scope back at once', async () => {
    const response = await service.call('POST', `${REPS_URL}/activate`, adminA, {
      organizationSalesRepId: r1.organizationSalesRepId,
    });
    expect(response.statusCode).toBe(200);
    expect(numbersOf(await list(r1.token))).toEqual(['A-100', 'A-101']);
  });

  it("a token with both roles is taken as Admin: the organization's customers, not only the rep's", async () => {
    const both = await service.token(orgA, r2.identityProviderUserId, ['Admin', 'SalesRep']);
    expect(numbersOf(await list(both))).toEqual(['A-100', 'A-101', 'A-200', 'A-300', 'A-301', 'A-400']);
  });

  it('a token with neither role, or a SalesRep token of a user who is no rep, is refused', async () => {
    const nobody = await service.token(orgA, 'nobody', []);
    expect((await list(nobody)).statusCode).toBe(403);
    const stranger = await service.token(orgA, 'stranger', ['SalesRep']);
    expect((await list(stranger)).statusCode).toBe(403);
    expect((await get(stranger, 'A-100')).statusCode).toBe(403);
    expect((await service.app.inject({ method: 'GET', url: CUSTOMERS_URL })).statusCode).toBe(401);
  });

  it('SalesRep tokens may not write customers: PUT and DELETE are Admin only', async () => {
    const put = await service.call('PUT', CUSTOMERS_URL, r2.token, {
      customerNumber: 'A-200',
      companyName: 'Mine',
    });
    expect(put.statusCode).toBe(403);
    const remove = await service.call('DELETE', `${CUSTOMERS_URL}/A-200`, r2.token);
    expect(remove.statusCode).toBe(403);
    expect((await get(adminA, 'A-200')).json().companyName).toBe('Almond Traders');
  });

  describe('rep number changes', () => {
    let orgC: Organization;
    let adminC: string;
    let r3: TestRep;

    beforeAll(async () => {
      orgC = await service.createOrganization('Org C');
      adminC = await service.token(orgC, 'admin-c', ['Admin']);
      r3 = await addRepWithToken(service, orgC, adminC, { email: 'r3@example.com', repNumber: 'C-1' });
      await addRepWithToken(service, orgC, adminC, { email: 'r4@example.com', repNumber: 'C-4' });
      await putCustomers(service, adminC, [
        { customerNumber: 'C-100', companyName: 'One', repNumber: 'C-1' },
        { customerNumber: 'C-101', companyName: 'Two', repNumber: 'C-1' },
        { customerNumber: 'C-200', companyName: 'Three', repNumber: 'C-2' },
      ]);
      expect(numbersOf(await list(r3.token))).toEqual(['C-100', 'C-101']);
    });

    const patch = (body: object) => service.call('PATCH', REPS_URL, adminC, body);

    it('without reassignCustomers the scope moves to the new number at once and the customers stay', async () => {
      const response = await patch({ organizationSalesRepId: r3.organizationSalesRepId, repNumber: 'C-2' });
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json()).not.toHaveProperty('reassignCustomers');
      expect(numbersOf(await list(r3.token))).toEqual(['C-200']);
      expect((await get(r3.token, 'C-100')).statusCode).toBe(404);
      // The old number's customers are the Admin's alone, unchanged.
      expect(numbersOf(await list(adminC, '?repNumber=C-1'))).toEqual(['C-100', 'C-101']);
    });

    it('a refused change (number taken) with reassignCustomers rewrites no customer', async () => {
      const response = await patch({
        organizationSalesRepId: r3.organizationSalesRepId,
        repNumber: 'C-4',
        reassignCustomers: true,
      });
      expect(response.statusCode).toBe(409);
      expect(numbersOf(await list(adminC, '?repNumber=C-2'))).toEqual(['C-200']);
      expect(numbersOf(await list(r3.token))).toEqual(['C-200']);
    });

    it('with reassignCustomers the customers follow the rep to its new number in the same change', async () => {
      const response = await patch({
        organizationSalesRepId: r3.organizationSalesRepId,
        repNumber: 'C-3',
        reassignCustomers: true,
      });
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json()).toMatchObject({ repNumber: 'C-3', success: true });
      expect(numbersOf(await list(r3.token))).toEqual(['C-200']);
      expect((await get(adminC, 'C-200')).json().repNumber).toBe('C-3');
      expect(numbersOf(await list(adminC, '?repNumber=C-2'))).toEqual([]);
      // Customers of other numbers are untouched.
      expect(numbersOf(await list(adminC, '?repNumber=C-1'))).toEqual(['C-100', 'C-101']);
    });

    it("reassignCustomers touches only the rep's own organization", async () => {
      await putCustomers(service, adminA, [
        { customerNumber: 'A-500', companyName: 'Same number', repNumber: 'C-3' },
      ]);
      const response = await patch({
        organizationSalesRepId: r3.organizationSalesRepId,
        repNumber: 'C-1',
        reassignCustomers: true,
      });
      expect(response.statusCode).toBe(200);
      expect((await get(adminA, 'A-500')).json().repNumber).toBe('C-3');
      expect(numbersOf(await list(r3.token))).toEqual(['C-100', 'C-101', 'C-200']);
    });

    it('reassignCustomers must be a boolean, and is documented in the OpenAPI', async () => {
      const response = await patch({
        organizationSalesRepId: r3.organizationSalesRepId,
        repNumber: 'C-5',
        reassignCustomers: 'yes',
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().errors).toEqual([{ field: 'reassignCustomers', message: expect.any(String) }]);
      const openapi = (await service.app.inject({ method: 'GET', url: '/openapi.json' })).json();
      const body =
        openapi.paths['/api/organizations/salesreps'].patch.requestBody.content['application/json'].schema;
      expect(body.properties.reassignCustomers.type).toBe('boolean');
      expect(body.properties.reassignCustomers.description).toMatch(/same transaction/);
    });
  });
});
