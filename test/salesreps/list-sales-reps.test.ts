import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { newId } from '../../src/kernel/ids.js';
import { searchKey } from '../../src/kernel/search.js';
import type { ListedSalesRep } from '../../src/salesreps/schemas.js';
import { databaseKinds } from '../support/databases.js';
import { type AddedRep, addRep, expectProblem, newRep, REPS_URL } from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/service.js';
import { ascending, SORT_FIELDS, type SortField } from './fixtures.js';

const LISTED_FIELDS = [
  'organizationId',
  'organizationSalesRepId',
  'salesRepId',
  'firstName',
  'lastName',
  'email',
  'phoneNumber',
  'repNumber',
  'active',
].sort();

const REP_COUNT = 60;

/** The rel → URL map of a Link header. */
function parseLinks(header: string | string[] | number | undefined): Record<string, URL> {
  expect(typeof header).toBe('string');
  const links: Record<string, URL> = {};
  for (const match of String(header).matchAll(/<([^>]*)>; rel="(\w+)"/g)) {
    links[match[2] as string] = new URL(match[1] as string, 'http://localhost');
  }
  return links;
}

describe.each(databaseKinds)('GET /api/organizations/salesreps on %s', (kind) => {
  let service: TestService;
  let organization: Organization;
  let admin: string;
  let reps: ListedSalesRep[];
  let otherOrganizationReps: AddedRep[];

  beforeAll(async () => {
    service = await startTestService(kind);
    organization = await service.createOrganization('Acme Distributors');
    admin = await service.token(organization, 'admin-1', ['Admin']);
    // Few distinct names, phones and flags, so every sort order has long runs of ties for the id to break.
    const added: AddedRep[] = [];
    for (let i = 0; i < REP_COUNT; i++) {
      const phoneNumber = i % 5 === 0 ? undefined : ['555-0100', '+1 555 0199', '555-0100'][i % 3];
      added.push(
        await addRep(
          service,
          admin,
          newRep({
            firstName: ['Ann', 'Bob', 'ann'][i % 3],
            lastName: ['Smith', 'Jones', 'Ángel', 'smith'][i % 4],
            email: `${['a', 'B', 'c'][i % 3]}rep${i}@example.com`,
            ...(phoneNumber ? { phoneNumber } : {}),
            repNumber: `${i % 2 ? 'r' : 'R'}${String((i * 37) % REP_COUNT).padStart(2, '0')}`,
          }),
        ),
      );
    }
    for (const [i, rep] of added.entries()) {
      if (i % 4 !== 1) continue;
      const response = await service.call('POST', `${REPS_URL}/deactivate`, admin, {
        organizationSalesRepId: rep.organizationSalesRepId,
      });
      expect(response.statusCode).toBe(200);
    }
    reps = added.map((rep, i) => ({
      organizationId: rep.organizationId,
      organizationSalesRepId: rep.organizationSalesRepId,
      salesRepId: rep.salesRepId,
      firstName: rep.firstName,
      lastName: rep.lastName,
      email: rep.email,
      phoneNumber: rep.phoneNumber,
      repNumber: rep.repNumber,
      active: i % 4 !== 1,
    }));

    const other = await service.createOrganization('Other Supplier');
    const otherAdmin = await service.token(other, 'admin-2', ['Admin']);
    otherOrganizationReps = [
      await addRep(service, otherAdmin, newRep({ repNumber: 'R00' })),
      await addRep(service, otherAdmin, newRep({ repNumber: 'R01' })),
    ];
  }, 120_000);
  afterAll(() => service.close());

  /** The full expected order: the field, then the assignment id in the same direction. */
  function expectedOrder(field: SortField, direction: 'asc' | 'desc'): string[] {
    const ids = [...reps].sort((a, b) => ascending(field, a, b)).map((rep) => rep.organizationSalesRepId);
    return direction === 'asc' ? ids : ids.reverse();
  }

  it('defaults to page 1 of 25, sorted by RepNumber ascending, with the total and links in headers', async () => {
    const response = await service.call('GET', REPS_URL, admin);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('application/json');
    expect(response.headers['x-total-count']).toBe(String(REP_COUNT));
    const items = response.json() as ListedSalesRep[];
    expect(items.map((item) => item.organizationSalesRepId)).toEqual(
      expectedOrder('RepNumber', 'asc').slice(0, 25),
    );
    const links = parseLinks(response.headers.link);
    expect(Object.keys(links).sort()).toEqual(['first', 'last', 'next']);
    for (const [rel, pageNumber] of [
      ['first', '1'],
      ['next', '2'],
      ['last', '3'],
    ] as const) {
      expect(links[rel]?.pathname).toBe(REPS_URL);
      expect(Object.fromEntries(links[rel]?.searchParams ?? [])).toEqual({
        pageNumber,
        pageSize: '25',
        sortOn: 'RepNumber',
        sortDirection: 'asc',
      });
    }
  });

  it('returns exactly the documented fields of each rep, with the values stored (phoneNumber null when none)', async () => {
    const response = await service.call('GET', `${REPS_URL}?pageSize=100`, admin);
    const items = response.json() as ListedSalesRep[];
    expect(items).toHaveLength(REP_COUNT);
    for (const item of items) expect(Object.keys(item).sort()).toEqual(LISTED_FIELDS);
    const byId = new Map(items.map((item) => [item.organizationSalesRepId, item]));
    for (const rep of reps) expect(byId.get(rep.organizationSalesRepId)).toEqual(rep);
    expect(items.filter((item) => item.phoneNumber === null)).toHaveLength(REP_COUNT / 5);
  });

  it("lists only the caller's organization's reps", async () => {
    const response = await service.call('GET', `${REPS_URL}?pageSize=100`, admin);
    const ids = (response.json() as ListedSalesRep[]).map((item) => item.organizationSalesRepId);
    for (const rep of otherOrganizationReps) expect(ids).not.toContain(rep.organizationSalesRepId);
    expect(
      (response.json() as ListedSalesRep[]).every((item) => item.organizationId === organization.id),
    ).toBe(true);
  });

  const walks = SORT_FIELDS.flatMap((field) =>
    (['asc', 'desc'] as const).flatMap((direction) =>
      [7, 25, 100].map((pageSize) => ({ field, direction, pageSize })),
    ),
  );

  it.each(walks)(
    'walks every page of $field $direction by $pageSize following Link next: no overlap, no gap, sorted, ties by id',
    async ({ field, direction, pageSize }) => {
      // Sort names in another letter case than documented, to prove both are case-insensitive.
      let url: string | undefined =
        `${REPS_URL}?pageSize=${pageSize}&sortOn=${field.toLowerCase()}&sortDirection=${direction.toUpperCase()}`;
      const lastPage = Math.ceil(REP_COUNT / pageSize);
      const seen: string[] = [];
      for (let pageNumber = 1; url; pageNumber++) {
        expect(pageNumber).toBeLessThanOrEqual(lastPage);
        const response = await service.call('GET', url, admin);
        expect(response.statusCode).toBe(200);
        expect(response.headers['x-total-count']).toBe(String(REP_COUNT));
        const items = response.json() as ListedSalesRep[];
        expect(items).toHaveLength(pageNumber < lastPage ? pageSize : REP_COUNT - pageSize * (lastPage - 1));
        seen.push(...items.map((item) => item.organizationSalesRepId));

        const links = parseLinks(response.headers.link);
        const pageOf = (rel: string) => links[rel]?.searchParams.get('pageNumber');
        expect(pageOf('first')).toBe('1');
        expect(pageOf('last')).toBe(String(lastPage));
        expect(pageOf('prev')).toBe(pageNumber > 1 ? String(pageNumber - 1) : undefined);
        expect(pageOf('next')).toBe(pageNumber < lastPage ? String(pageNumber + 1) : undefined);
        for (const link of Object.values(links)) {
          expect(link.searchParams.get('pageSize')).toBe(String(pageSize));
          expect(link.searchParams.get('sortOn')).toBe(field);
          expect(link.searchParams.get('sortDirection')).toBe(direction);
        }
        url = links.next ? `${links.next.pathname}${links.next.search}` : undefined;
      }
      expect(new Set(seen).size).toBe(REP_COUNT);
      expect(seen).toEqual(expectedOrder(field, direction));
    },
  );

  it('accepts sortOn and sortDirection in any letter case', async () => {
    for (const [sortOn, sortDirection] of [
      ['LASTNAME', 'Desc'],
      ['phonenumber', 'ASC'],
      ['aCtIvE', 'dEsC'],
    ] as const) {
      const response = await service.call(
        'GET',
        `${REPS_URL}?pageSize=100&sortOn=${sortOn}&sortDirection=${sortDirection}`,
        admin,
      );
      expect(response.statusCode).toBe(200);
      const field = SORT_FIELDS.find((name) => name.toLowerCase() === sortOn.toLowerCase()) as SortField;
      const direction = sortDirection.toLowerCase() as 'asc' | 'desc';
      expect((response.json() as ListedSalesRep[]).map((item) => item.organizationSalesRepId)).toEqual(
        expectedOrder(field, direction),
      );
    }
  });

  it('accepts the bounds pageSize 1 and 100', async () => {
    const one = await service.call('GET', `${REPS_URL}?pageSize=1&pageNumber=60`, admin);
    expect(one.statusCode).toBe(200);
    expect((one.json() as ListedSalesRep[]).map((item) => item.organizationSalesRepId)).toEqual(
      expectedOrder('RepNumber', 'asc').slice(59),
    );
    const hundred = await service.call('GET', `${REPS_URL}?pageSize=100`, admin);
    expect(hundred.json()).toHaveLength(REP_COUNT);
  });

  it('answers a page past the end with 200 [] and links back to the last page', async () => {
    const response = await service.call('GET', `${REPS_URL}?pageNumber=9&pageSize=25`, admin);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual([]);
    expect(response.headers['x-total-count']).toBe(String(REP_COUNT));
    const links = parseLinks(response.headers.link);
    expect(links.next).toBeUndefined();
    expect(links.prev?.searchParams.get('pageNumber')).toBe('3');
    expect(links.last?.searchParams.get('pageNumber')).toBe('3');
  });

  it('answers the largest pageNumber (1,000,000,000) with 200 []', async () => {
    const response = await service.call('GET', `${REPS_URL}?pageNumber=1000000000&pageSize=100`, admin);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual([]);
  });

  describe('an organization of 1,100 reps (pages deeper than the first 500 rows)', () => {
    const BULK_COUNT = 1100;
    let bulkAdmin: string;
    let bulkReps: ListedSalesRep[];

    beforeAll(async () => {
      const bulk = await service.createOrganization('Bulk Co');
      bulkAdmin = await service.token(bulk, 'admin-bulk', ['Admin']);
      // Written straight to the tables: a thousand PUTs would only slow the suite; the list reads the same rows.
      bulkReps = Array.from({ length: BULK_COUNT }, (_, i) => ({
        organizationId: bulk.id,
        organizationSalesRepId: newId(),
        salesRepId: newId(),
        firstName: ['Ann', 'Bob', 'ann', 'Zoë'][i % 4] as string,
        lastName: ['Smith', 'Jones', 'smith'][i % 3] as string,
        email: `${i % 2 ? 'B' : 'a'}bulk${i}@example.com`,
        phoneNumber: i % 7 === 0 ? null : (['555-0100', '555-0199'][i % 2] as string),
        repNumber: `B${String((i * 7) % BULK_COUNT).padStart(4, '0')}`,
        active: i % 3 !== 0,
      }));
      await service.db
        .insertInto('sales_rep')
        .values(
          bulkReps.map((rep) => ({
            id: rep.salesRepId,
            email: rep.email,
            identity_provider_user_id: `local_${rep.salesRepId}`,
          })),
        )
        .execute();
      await service.db
        .insertInto('organization_sales_rep')
        .values(
          bulkReps.map((rep) => ({
            id: rep.organizationSalesRepId,
            organization_id: rep.organizationId,
            sales_rep_id: rep.salesRepId,
            rep_number: rep.repNumber,
            active: rep.active,
            roles: ['SalesRep'],
            first_name: rep.firstName,
            last_name: rep.lastName,
            first_name_search: searchKey(rep.firstName),
            last_name_search: searchKey(rep.lastName),
            email: rep.email,
            phone_number: rep.phoneNumber,
          })),
        )
        .execute();
    }, 120_000);

    function bulkOrder(field: SortField, direction: 'asc' | 'desc'): string[] {
      const ids = [...bulkReps]
        .sort((a, b) => ascending(field, a, b))
        .map((rep) => rep.organizationSalesRepId);
      return direction === 'asc' ? ids : ids.reverse();
    }

    async function page(field: SortField, direction: string, pageSize: number, pageNumber: number) {
      const response = await service.call(
        'GET',
        `${REPS_URL}?sortOn=${field}&sortDirection=${direction}&pageSize=${pageSize}&pageNumber=${pageNumber}`,
        bulkAdmin,
      );
      expect(response.statusCode).toBe(200);
      expect(response.headers['x-total-count']).toBe(String(BULK_COUNT));
      return (response.json() as ListedSalesRep[]).map((item) => item.organizationSalesRepId);
    }

    it.each(
      SORT_FIELDS.flatMap((field) => (['asc', 'desc'] as const).map((direction) => ({ field, direction }))),
    )(
      'walks all 1,100 reps by $field $direction in pages of 100 and of 37: every page exact at any depth',
      async ({ field, direction }) => {
        for (const pageSize of [100, 37]) {
          const seen: string[] = [];
          for (let pageNumber = 1; pageNumber <= Math.ceil(BULK_COUNT / pageSize); pageNumber++) {
            seen.push(...(await page(field, direction, pageSize, pageNumber)));
          }
          expect(seen).toEqual(bulkOrder(field, direction));
        }
      },
    );

    it('shows a change at once on a deep page already read (no stale page)', async () => {
      const deep = async () => page('Active', 'asc', 50, 15);
      const before = await deep();
      expect(before).toEqual(bulkOrder('Active', 'asc').slice(700, 750));
      // The last active rep becomes inactive: every active rep before it moves one place down the order.
      const last = bulkOrder('Active', 'asc').at(-1) as string;
      const response = await service.call('POST', `${REPS_URL}/deactivate`, bulkAdmin, {
        organizationSalesRepId: last,
      });
      expect(response.statusCode).toBe(200);
      bulkReps = bulkReps.map((rep) =>
        rep.organizationSalesRepId === last ? { ...rep, active: false } : rep,
      );
      const after = await deep();
      expect(after).not.toEqual(before);
      expect(after).toEqual(bulkOrder('Active', 'asc').slice(700, 750));
    });
  });

  it.each([
    ['pageNumber=0', 'pageNumber'],
    ['pageNumber=-1', 'pageNumber'],
    ['pageNumber=abc', 'pageNumber'],
    ['pageNumber=1.5', 'pageNumber'],
    ['pageNumber=', 'pageNumber'],
    ['pageNumber=1000000001', 'pageNumber'],
    ['pageNumber=1e1', 'pageNumber'],
    ['pageNumber=0x2', 'pageNumber'],
    ['pageNumber=%202', 'pageNumber'],
    ['pageSize=0', 'pageSize'],
    ['pageSize=101', 'pageSize'],
    ['pageSize=ten', 'pageSize'],
    ['pageSize=10.0', 'pageSize'],
    ['sortOn=Name', 'sortOn'],
    ['sortOn=', 'sortOn'],
    ['sortOn=RepNumber%20', 'sortOn'],
    ['sortOn=organizationSalesRepId', 'sortOn'],
    ['sortDirection=up', 'sortDirection'],
    ['sortDirection=ascending', 'sortDirection'],
    ['sortDirection=', 'sortDirection'],
    ['pagesize=10', 'pagesize'],
    ['filter=x', 'filter'],
    ['pageSize=10&pageSize=20', 'pageSize'],
    ['pageNumber=1&pageNumber=1', 'pageNumber'],
    ['sortOn=Email&sortOn=Email', 'sortOn'],
    ['sortDirection=asc&sortDirection=desc', 'sortDirection'],
  ])('rejects ?%s with 400 naming %s', async (query, field) => {
    const response = await service.call('GET', `${REPS_URL}?${query}`, admin);
    expectProblem(response, 400, [field]);
  });
});
