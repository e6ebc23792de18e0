import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectCustomersPage } from '../../src/customers/queries.js';
import type { Organization } from '../../src/db/schema.js';
import { databaseKinds } from '../support/databases.js';
import { CUSTOMERS_URL } from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/service.js';
import { addRepWithToken, numbersOf, putCustomers } from './support.js';

const fullCustomer = {
  customerNumber: 'CUST-001',
  companyName: ' Acme Hardware ',
  companyEmail: 'orders@acme.example',
  companyPhone: '+1 555 0100',
  pricing: 'TIER-2',
  terms: 'Net 30',
  active: true,
  repNumber: 'R-1',
  externalId: 'erp-000123',
  addresses: [
    { label: 'Billing', line1: '1 Main St', city: 'Springfield', postalCode: '12345', country: 'US' },
  ],
  contacts: [{ name: 'Pat Buyer', title: 'Purchasing', email: 'pat@acme.example', phone: '555-0101' }],
  customerAttributes: { segment: 'retail', 'erp.region': 'NE' },
};

function importOf(count: number, prefix: string, repNumber?: string) {
  return Array.from({ length: count }, (_, i) => ({
    customerNumber: `${prefix}-${String(i).padStart(5, '0')}`,
    companyName: `Company ${prefix} ${i}`,
    companyEmail: `c${i}@${prefix.toLowerCase()}.example`,
    ...(repNumber ? { repNumber } : {}),
  }));
}

describe.each(databaseKinds)('the customer endpoints on %s', (kind) => {
  let service: TestService;
  let org: Organization;
  let admin: string;

  beforeAll(async () => {
    service = await startTestService(kind);
    org = await service.createOrganization('Acme Distributors');
    admin = await service.token(org, 'admin-1', ['Admin']);
  });
  afterAll(() => service.close());

  const put = (body: unknown, token = admin) => service.call('PUT', CUSTOMERS_URL, token, body);
  const countIn = async (organizationId: string) =>
    (
      await service.db
        .selectFrom('customer')
        .select(sql<number>`count(*)::int`.as('count'))
        .where('organization_id', '=', organizationId)
        .executeTakeFirstOrThrow()
    ).count;

  describe('PUT /api/customers with one customer', () => {
    it('creates the customer and answers with exactly the documented fields, the name trimmed', async () => {
      const response = await put(fullCustomer);
      expect(response.statusCode, response.body).toBe(200);
      const body = response.json();
      expect(Object.keys(body).sort()).toEqual(
        [
          'organizationId',
          'customerNumber',
          'companyName',
          'companyEmail',
          'companyPhone',
          'pricing',
          'terms',
          'active',
          'repNumber',
          'externalId',
          'addresses',
          'contacts',
          'customerAttributes',
          'createdAt',
          'updatedAt',
        ].sort(),
      );
      expect(body).toMatchObject({ ...fullCustomer, companyName: 'Acme Hardware', organizationId: org.id });
      const fetched = await service.call('GET', `${CUSTOMERS_URL}/CUST-001`, admin);
      expect(fetched.json()).toEqual(body);
    });

    it('replaces the whole record by customerNumber: fields left out are cleared, no second row', async () => {
      const before = (await service.call('GET', `${CUSTOMERS_URL}/CUST-001`, admin)).json();
      const response = await put({
        customerNumber: 'CUST-001',
        companyName: 'Acme Hardware Inc.',
        companyEmail: null,
      });
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json()).toMatchObject({
        companyName: 'Acme Hardware Inc.',
        companyEmail: null,
        companyPhone: null,
        repNumber: null,
        active: true,
        addresses: [],
        contacts: [],
        customerAttributes: {},
        createdAt: before.createdAt,
      });
      expect(await countIn(org.id)).toBe(1);
    });

    it('keeps customer numbers per organization: the same number in another organization is another customer', async () => {
      const other = await service.createOrganization('Other Org');
      const otherAdmin = await service.token(other, 'admin-2', ['Admin']);
      expect((await put({ customerNumber: 'CUST-001', companyName: 'Theirs' }, otherAdmin)).statusCode).toBe(
        200,
      );
      expect((await service.call('GET', `${CUSTOMERS_URL}/CUST-001`, admin)).json().companyName).toBe(
        'Acme Hardware Inc.',
      );
      expect((await service.call('GET', `${CUSTOMERS_URL}/CUST-001`, otherAdmin)).json().companyName).toBe(
        'Theirs',
      );
    });

    it.each([
      ['an unknown field', { nickname: 'x' }, 'nickname'],
      [
        'an unknown address field',
        { addresses: [{ line1: '1 Main St', street: 'x' }] },
        'addresses[0].street',
      ],
      ['a contact without a name', { contacts: [{ email: 'a@b.example' }] }, 'contacts[0].name'],
      ['a non-string attribute value', { customerAttributes: { tier: 2 } }, 'customerAttributes.tier'],
      [
        'an attribute key with a space',
        { customerAttributes: { 'bad key': 'x' } },
        'customerAttributes.bad key',
      ],
      [
        'too many attributes',
        { customerAttributes: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) },
        'customerAttributes',
      ],
      ['a customer number with a leading space', { customerNumber: ' C-1' }, 'customerNumber'],
      ['a customer number over 50 characters', { customerNumber: 'C'.repeat(51) }, 'customerNumber'],
      ['a company name over 200 characters', { companyName: 'x'.repeat(201) }, 'companyName'],
      ['a blank company name', { companyName: '   ' }, 'companyName'],
      ['an invalid email', { companyEmail: 'not-an-email' }, 'companyEmail'],
      ['a number where text belongs', { terms: 30 }, 'terms'],
      ['a non-boolean active', { active: 'yes' }, 'active'],
      ['over 20 addresses', { addresses: Array.from({ length: 21 }, () => ({ line1: 'x' })) }, 'addresses'],
    ])('refuses %s with 400 problem+json naming the field, writing nothing', async (_case, change, field) => {
      const response = await put({ customerNumber: 'BAD-1', companyName: 'Bad', ...change });
      expect(response.statusCode).toBe(400);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.json().errors).toEqual([{ field, message: expect.any(String) }]);
      expect((await service.call('GET', `${CUSTOMERS_URL}/BAD-1`, admin)).statusCode).toBe(404);
    });

    it('refuses a missing customerNumber and companyName, naming both', async () => {
      const response = await put({});
      expect(response.statusCode).toBe(400);
      expect(
        response
          .json()
          .errors.map((error: { field: string }) => error.field)
          .sort(),
      ).toEqual(['companyName', 'customerNumber']);
    });
  });

  describe('PUT /api/customers with an array (bulk import)', () => {
    let bulkOrg: Organization;
    let bulkAdmin: string;

    beforeAll(async () => {
      bulkOrg = await service.createOrganization('Bulk Org');
      bulkAdmin = await service.token(bulkOrg, 'admin-bulk', ['Admin']);
    });

    it('writes nothing when one of 1,000 rows is bad, and names that row and field', async () => {
      const customers = importOf(1000, 'IMP');
      customers[637] = { ...customers[637], companyName: 'x'.repeat(201) } as (typeof customers)[number];
      const response = await put(customers, bulkAdmin);
      expect(response.statusCode, response.body.slice(0, 500)).toBe(400);
      expect(response.json().errors).toEqual([{ field: '[637].companyName', message: expect.any(String) }]);
      expect(await countIn(bulkOrg.id)).toBe(0);
    });

    it('reports every bad row and field at once', async () => {
      const customers: object[] = importOf(5, 'MULTI');
      customers[1] = { customerNumber: 'MULTI-1' };
      customers[3] = { ...customers[3], repNumber: ' R-1', nickname: 'x' };
      const response = await put(customers, bulkAdmin);
      expect(response.statusCode).toBe(400);
      expect(
        response
          .json()
          .errors.map((error: { field: string }) => error.field)
          .sort(),
      ).toEqual(['[1].companyName', '[3].nickname', '[3].repNumber']);
      expect(await countIn(bulkOrg.id)).toBe(0);
    });

    it('names a customer number given twice, with the item it repeats, and writes nothing', async () => {
      const customers = importOf(10, 'DUP');
      customers[7] = {
        ...customers[7],
        customerNumber: customers[2]?.customerNumber,
      } as (typeof customers)[number];
      const response = await put(customers, bulkAdmin);
      expect(response.statusCode).toBe(400);
      expect(response.json().errors).toEqual([
        { field: '[7].customerNumber', message: expect.stringContaining('[2]') },
      ]);
      expect(await countIn(bulkOrg.id)).toBe(0);
    });

    it('imports 1,000 customers in one request (over the 64 KiB default body limit) in the order sent', async () => {
      const customers = importOf(1000, 'IMP', 'R-1');
      expect(JSON.stringify(customers).length).toBeGreaterThan(64 * 1024);
      const response = await put(customers, bulkAdmin);
      expect(response.statusCode, response.body.slice(0, 500)).toBe(200);
      const body = response.json() as { customerNumber: string }[];
      expect(body.map((customer) => customer.customerNumber)).toEqual(customers.map((c) => c.customerNumber));
      expect(await countIn(bulkOrg.id)).toBe(1000);
      const listed = await service.call('GET', `${CUSTOMERS_URL}?pageSize=1`, bulkAdmin);
      expect(listed.headers['x-total-count']).toBe('1000');
    });

    it('updates existing customers by number on a second import, adding only the new ones', async () => {
      const customers = [
        { customerNumber: 'IMP-00000', companyName: 'Renamed', repNumber: 'R-2' },
        { customerNumber: 'NEW-1', companyName: 'Brand New' },
      ];
      const response = await put(customers, bulkAdmin);
      expect(response.statusCode).toBe(200);
      expect(response.json().map((c: { companyName: string }) => c.companyName)).toEqual([
        'Renamed',
        'Brand New',
      ]);
      expect(await countIn(bulkOrg.id)).toBe(1001);
    });

    it('applies concurrent imports of the same customers in opposite orders without a deadlock', async () => {
      const customers = importOf(600, 'CONC');
      await putCustomers(service, bulkAdmin, customers);
      const responses = await Promise.all([
        put(
          customers.map((c) => ({ ...c, terms: 'forward' })),
          bulkAdmin,
        ),
        put(
          [...customers].reverse().map((c) => ({ ...c, terms: 'backward' })),
          bulkAdmin,
        ),
        put(
          customers.map((c) => ({ ...c, terms: 'forward again' })),
          bulkAdmin,
        ),
      ]);
      expect(responses.map((response) => response.statusCode)).toEqual([200, 200, 200]);
    });

    it('refuses more than 1,000 items, an empty array, and a body over the import limit', async () => {
      const tooMany = await put(importOf(1001, 'MANY'), bulkAdmin);
      expect(tooMany.statusCode).toBe(400);
      expect(tooMany.json().errors).toEqual([{ field: 'body', message: expect.stringContaining('1000') }]);
      expect((await put([], bulkAdmin)).statusCode).toBe(400);
      const huge = await put([{ customerNumber: 'H', companyName: 'x'.repeat(5 * 1024 * 1024) }], bulkAdmin);
      expect(huge.statusCode).toBe(413);
      expect(await countIn(bulkOrg.id)).toBe(1601);
    });
  });

  describe('GET /api/customers', () => {
    let listOrg: Organization;
    let listAdmin: string;

    beforeAll(async () => {
      listOrg = await service.createOrganization('List Org');
      listAdmin = await service.token(listOrg, 'admin-list', ['Admin']);
      await putCustomers(service, listAdmin, [
        ...importOf(27, 'L', 'R-1'),
        {
          customerNumber: 'ZZ-1',
          companyName: 'Ärzte Bedarf',
          companyEmail: 'a@z.example',
          repNumber: 'R-0',
        },
        { customerNumber: 'ZZ-2', companyName: '50% Off Shop', repNumber: 'R-0' },
        { customerNumber: 'ZZ-3', companyName: 'alpha lower', repNumber: 'R-0' },
      ]);
    });
    const list = (query: string) => service.call('GET', `${CUSTOMERS_URL}${query}`, listAdmin);

    it('pages by pageNumber and pageSize, with X-Total-Count and a Link header that keeps sort and filters', async () => {
      const response = await list('?pageNumber=2&pageSize=10&search=l-&repNumber=R-1');
      expect(numbersOf(response)).toEqual(
        importOf(27, 'L')
          .slice(10, 20)
          .map((c) => c.customerNumber),
      );
      expect(response.headers['x-total-count']).toBe('27');
      const link = String(response.headers.link);
      for (const rel of ['first', 'prev', 'next', 'last']) expect(link).toContain(`rel="${rel}"`);
      expect(link).toContain('pageNumber=3');
      expect(link).toContain('search=l-');
      expect(link).toContain('repNumber=R-1');
      expect(numbersOf(await list('?pageNumber=9&pageSize=10'))).toEqual([]);
    });

    it('sorts on any allowed field in any letter case, either direction, ties broken so pages never overlap', async () => {
      const names = (await list('?sortOn=companyname&sortDirection=DESC&pageSize=100')).json() as {
        companyName: string;
      }[];
      const expected = names.map((c) => c.companyName).sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
      expect(names.map((c) => c.companyName)).toEqual(expected);
      const byRep = numbersOf(await list('?sortOn=REPNUMBER&pageSize=3'));
      expect(byRep).toHaveLength(3);
      expect(byRep.every((n) => n.startsWith('ZZ-'))).toBe(true);
      const pages = [];
      for (let page = 1; page <= 3; page++)
        pages.push(...numbersOf(await list(`?sortOn=RepNumber&pageSize=11&pageNumber=${page}`)));
      expect(new Set(pages).size).toBe(30);
    });

    it.each([
      ['sortOn=Email', 'sortOn'],
      ['sortDirection=up', 'sortDirection'],
      ['pageSize=101', 'pageSize'],
      ['pageNumber=0', 'pageNumber'],
      ['pageNumber=1e1', 'pageNumber'],
      ['pageSize=0x2', 'pageSize'],
      ['pageSize=10.0', 'pageSize'],
      ['search=', 'search'],
      ['repNumber=%20R-1', 'repNumber'],
      ['color=red', 'color'],
    ])('refuses ?%s with 400 naming the parameter', async (query, field) => {
      const response = await list(`?${query}`);
      expect(response.statusCode).toBe(400);
      expect(response.json().errors).toEqual([{ field, message: expect.any(String) }]);
    });

    it('searches the customer number or the company name anywhere, in any letter case, accents or not', async () => {
      expect(numbersOf(await list('?search=zz-'))).toEqual(['ZZ-1', 'ZZ-2', 'ZZ-3']);
      expect(numbersOf(await list('?search=Z-2'))).toEqual(['ZZ-2']);
      expect(numbersOf(await list('?search=%C3%84RZ'))).toEqual(['ZZ-1']); // ÄRZ
      expect(numbersOf(await list('?search=arzte'))).toEqual(['ZZ-1']);
      expect(numbersOf(await list('?search=%C3%A4rzte%20b'))).toEqual(['ZZ-1']); // ärzte b
      expect(numbersOf(await list('?search=Bedarf'))).toEqual(['ZZ-1']);
      expect(numbersOf(await list('?search=ALPHA'))).toEqual(['ZZ-3']);
      expect(numbersOf(await list('?search=OWER'))).toEqual(['ZZ-3']);
      expect(numbersOf(await list('?search=off%20shop'))).toEqual(['ZZ-2']);
      expect(numbersOf(await list('?search=50%25'))).toEqual(['ZZ-2']);
    });

    it('matches within one field only, never across the company name and the customer number', async () => {
      expect(numbersOf(await list('?search=lower%20zz'))).toEqual([]);
      expect(numbersOf(await list('?search=bedarf%20zz-1'))).toEqual([]);
      expect(numbersOf(await list('?search=pha%20low'))).toEqual(['ZZ-3']);
    });

    it('matches the start only for a text of one or two characters', async () => {
      expect(numbersOf(await list('?search=%C3%A4r'))).toEqual(['ZZ-1']); // är
      expect(numbersOf(await list('?search=ed'))).toEqual([]);
      expect(numbersOf(await list('?search=Z'))).toEqual(['ZZ-1', 'ZZ-2', 'ZZ-3']);
    });

    it('takes LIKE wildcards as plain text', async () => {
      for (const text of ['%25', '_', 'ff%25', 'a_p', '%25%25%25', 'a%25a', '%5C']) {
        expect(numbersOf(await list(`?search=${text}`)), text).toEqual([]);
      }
    });

    it("never finds another organization's customers", async () => {
      // "Acme Hardware Inc." is a customer of the first organization, "Theirs" of the other.
      expect(numbersOf(await list('?search=hardware'))).toEqual([]);
      expect(numbersOf(await list('?search=heirs'))).toEqual([]);
      expect(numbersOf(await list('?search=cust-0'))).toEqual([]);
    });

    it('filters by repNumber for an Admin', async () => {
      expect(numbersOf(await list('?repNumber=R-0'))).toEqual(['ZZ-1', 'ZZ-2', 'ZZ-3']);
      expect(numbersOf(await list('?repNumber=R-404'))).toEqual([]);
    });
  });

  describe('DELETE /api/customers/{customerNumber}', () => {
    it('deletes the customer of the organization; a second delete is 404', async () => {
      expect((await put({ customerNumber: 'DEL/1', companyName: 'Gone Soon' })).statusCode).toBe(200);
      const response = await service.call('DELETE', `${CUSTOMERS_URL}/DEL%2F1`, admin);
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json()).toEqual({ success: true });
      expect((await service.call('GET', `${CUSTOMERS_URL}/DEL%2F1`, admin)).statusCode).toBe(404);
      expect((await service.call('DELETE', `${CUSTOMERS_URL}/DEL%2F1`, admin)).statusCode).toBe(404);
    });

    it("cannot delete another organization's customer: 404, and it stays", async () => {
      const other = await service.createOrganization('Victim Org');
      const otherAdmin = await service.token(other, 'admin-v', ['Admin']);
      expect((await put({ customerNumber: 'KEEP-1', companyName: 'Keep' }, otherAdmin)).statusCode).toBe(200);
      expect((await service.call('DELETE', `${CUSTOMERS_URL}/KEEP-1`, admin)).statusCode).toBe(404);
      expect((await service.call('GET', `${CUSTOMERS_URL}/KEEP-1`, otherAdmin)).statusCode).toBe(200);
    });
  });

  describe("the rep's list uses the rep's index, whatever the organization's size", () => {
    let bigOrg: Organization;
    let repNumberOfRep: string;

    beforeAll(async () => {
      bigOrg = await service.createOrganization('Big Org');
      const bigAdmin = await service.token(bigOrg, 'admin-big', ['Admin']);
      // 5,000 customers over 50 rep numbers (100 each), and as many in another organization.
      for (let batch = 0; batch < 5; batch++) {
        const customers = importOf(1000, `BIG${batch}`).map((customer, i) => ({
          ...customer,
          repNumber: `R-${(i % 50) + 1}`,
        }));
        await putCustomers(service, bigAdmin, customers);
        await putCustomers(service, admin, customers);
      }
      repNumberOfRep = 'R-7';
      await addRepWithToken(service, bigOrg, bigAdmin, {
        email: 'big-rep@example.com',
        repNumber: repNumberOfRep,
      });
      await sql`analyze customer`.execute(service.db);
    });

    it.each(['CustomerNumber', 'CompanyName', 'CompanyEmail', 'RepNumber'] as const)(
      'sorted on %s: an index range scan on (organization_id, rep_number, ...), no table scan, no sort',
      async (sortOn) => {
        for (const sortDirection of ['asc', 'desc'] as const) {
          const query = selectCustomersPage(
            service.db,
            bigOrg.id,
            { repNumber: repNumberOfRep },
            { sortOn, sortDirection, limit: 25, offset: 25 },
          );
          const plan = (await query.explain()).map((row) => String(row['QUERY PLAN'])).join('\n');
          expect(plan, plan).toMatch(/Index Scan( Backward)? using customer_by_rep\w* on customer/);
          expect(plan, plan).not.toMatch(/Seq Scan|Sort/);
        }
      },
    );
  });
});
