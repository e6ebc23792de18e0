import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../src/db/schema.js';
import { databaseKinds } from '../support/databases.js';
import { addRep, newRep, REPS_URL } from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/service.js';
import { ascending, SORT_FIELDS, type SortableRep, type SortField } from './fixtures.js';

// Deep pages start at cached page boundaries kept every 100 rows (salesreps/queries.ts); 1,600 rows put many
// boundaries in every order, and 40% missing phone numbers put boundaries inside the NULL part of both phone orders.
const ROWS = 1600;
const PAGE_SIZE = 100;
type Direction = 'asc' | 'desc';

type Listed = SortableRep;

describe.each(databaseKinds)(
  'deep pages and X-Total-Count of GET /api/organizations/salesreps on %s',
  (kind) => {
    let service: TestService;
    let organization: Organization;
    let admin: string;

    /** Every assignment of the organization as stored now. */
    async function stored(): Promise<Listed[]> {
      const rows = await service.db
        .selectFrom('organization_sales_rep')
        .select(['id', 'first_name', 'last_name', 'email', 'phone_number', 'rep_number', 'active'])
        .where('organization_id', '=', organization.id)
        .execute();
      return rows.map((row) => ({
        organizationSalesRepId: row.id,
        firstName: row.first_name,
        lastName: row.last_name,
        email: row.email,
        phoneNumber: row.phone_number,
        repNumber: row.rep_number,
        active: row.active,
      }));
    }

    function expectedIds(all: Listed[], field: SortField, direction: Direction): string[] {
      const ids = [...all].sort((a, b) => ascending(field, a, b)).map((rep) => rep.organizationSalesRepId);
      return direction === 'asc' ? ids : ids.reverse();
    }

    async function page(field: SortField, direction: Direction, pageNumber: number, pageSize = PAGE_SIZE) {
      const response = await service.call(
        'GET',
        `${REPS_URL}?sortOn=${field}&sortDirection=${direction}&pageNumber=${pageNumber}&pageSize=${pageSize}`,
        admin,
      );
      expect(response.statusCode, response.body).toBe(200);
      return {
        ids: (response.json() as Listed[]).map((rep) => rep.organizationSalesRepId),
        total: Number(response.headers['x-total-count']),
      };
    }

    beforeAll(async () => {
      service = await startTestService(kind);
      organization = await service.createOrganization('Deep Pages Supply');
      admin = await service.token(organization, 'admin-deep', ['Admin']);
      // Set-based, like the benchmark's loader: few distinct names (ties everywhere), mixed letter case and
      // non-ASCII letters (byte order), every 5th rep inactive, phone numbers missing for i % 5 in (0, 1).
      await sql`
      insert into sales_rep (id, email, identity_provider_user_id)
      select 'deep-rep-' || i, 'deep' || i || '@example.com', 'deep-user-' || i
      from generate_series(1, ${ROWS}) i`.execute(service.db);
      await sql`
      insert into organization_sales_rep
        (id, organization_id, sales_rep_id, rep_number, active, roles, first_name, last_name, first_name_search,
          last_name_search, email, phone_number)
      select substr(md5('deep' || r.id), 1, 22), ${organization.id}, r.id,
        'R' || lpad(((i * 7919) % ${ROWS})::text, 5, '0'), i % 5 <> 2, '{SalesRep}',
        (array['Ann', 'ann', 'Émile', 'Bob', 'Zoë'])[1 + i % 5],
        (array['Smith', 'Ángel', 'smith', 'Jones'])[1 + i % 4],
        (array['ann', 'ann', 'émile', 'bob', 'zoë'])[1 + i % 5],
        (array['smith', 'ángel', 'smith', 'jones'])[1 + i % 4],
        r.email,
        case when i % 5 in (0, 1) then null else '555-01' || (i % 7) end
      from generate_series(1, ${ROWS}) i join sales_rep r on r.id = 'deep-rep-' || i`.execute(service.db);
    }, 120_000);
    afterAll(() => service.close());

    it.each(SORT_FIELDS)(
      'pages through all rows in %s order, both directions, exactly as OFFSET would',
      async (field) => {
        const all = await stored();
        for (const direction of ['asc', 'desc'] as const) {
          const listed: string[] = [];
          for (let pageNumber = 1; pageNumber <= ROWS / PAGE_SIZE + 1; pageNumber++) {
            const { ids, total } = await page(field, direction, pageNumber);
            expect(total).toBe(ROWS);
            listed.push(...ids);
          }
          expect(listed).toEqual(expectedIds(all, field, direction));
        }
      },
    );

    it('gives pages that straddle a page boundary, with odd page sizes, the rows OFFSET would', async () => {
      const all = await stored();
      for (const [field, direction] of [
        ['PhoneNumber', 'asc'],
        ['PhoneNumber', 'desc'],
        ['LastName', 'desc'],
        ['Active', 'asc'],
      ] as const) {
        const expected = expectedIds(all, field, direction);
        // pageSize 37 straddles boundaries: page 14 spans rows 481..517, page 28 rows 999..1,035, page 41 1,480..1,516.
        for (const pageNumber of [14, 27, 28, 41, 44]) {
          const { ids } = await page(field, direction, pageNumber, 37);
          expect(ids).toEqual(expected.slice((pageNumber - 1) * 37, pageNumber * 37));
        }
      }
    });

    it('sees a change at once: deep pages after a PUT, a deactivation, a rep number change and a DELETE', async () => {
      // Read deep pages first, so that their page boundaries are cached before each change.
      await page('FirstName', 'asc', 12);
      await page('Active', 'desc', 9);
      await page('RepNumber', 'asc', 15);
      await page('FirstName', 'desc', 14);

      // A rep that sorts first by first name moves every later row one place.
      const added = await addRep(service, admin, newRep({ firstName: 'AAA', repNumber: 'R99999' }));
      let all = await stored();
      expect((await page('FirstName', 'asc', 12)).ids).toEqual(
        expectedIds(all, 'FirstName', 'asc').slice(1100, 1200),
      );
      expect((await page('FirstName', 'desc', 14)).ids).toEqual(
        expectedIds(all, 'FirstName', 'desc').slice(1300, 1400),
      );

      const first = all.find((rep) => rep.active);
      if (!first) throw new Error('no active rep');
      expect(
        (
          await service.call('POST', `${REPS_URL}/deactivate`, admin, {
            organizationSalesRepId: first.organizationSalesRepId,
          })
        ).statusCode,
      ).toBe(200);
      all = await stored();
      expect((await page('Active', 'desc', 9)).ids).toEqual(
        expectedIds(all, 'Active', 'desc').slice(800, 900),
      );

      expect(
        (
          await service.call('PATCH', REPS_URL, admin, {
            organizationSalesRepId: first.organizationSalesRepId,
            repNumber: 'R00000-moved',
          })
        ).statusCode,
      ).toBe(200);
      all = await stored();
      expect((await page('RepNumber', 'asc', 15)).ids).toEqual(
        expectedIds(all, 'RepNumber', 'asc').slice(1400, 1500),
      );

      const removed = await service.call(
        'DELETE',
        `${REPS_URL}?organizationSalesRepId=${added.organizationSalesRepId}`,
        admin,
      );
      expect(removed.statusCode).toBe(200);
      all = await stored();
      const after = await page('FirstName', 'asc', 12);
      expect(after.ids).toEqual(expectedIds(all, 'FirstName', 'asc').slice(1100, 1200));
      expect(after.total).toBe(ROWS);
    });

    it('keeps X-Total-Count exact while PUTs and DELETEs run concurrently', async () => {
      const before = (await page('Email', 'asc', 1)).total;
      const added = await Promise.all(
        Array.from({ length: 24 }, () => addRep(service, admin, newRep({ firstName: 'Concurrent' }))),
      );
      const writesAndReads = [
        ...added
          .slice(0, 12)
          .map((rep) =>
            service.call('DELETE', `${REPS_URL}?organizationSalesRepId=${rep.organizationSalesRepId}`, admin),
          ),
        ...Array.from({ length: 12 }, () => addRep(service, admin, newRep({ firstName: 'Concurrent' }))),
        ...Array.from({ length: 12 }, (_, i) => page('Email', i % 2 ? 'asc' : 'desc', 1 + (i % 17))),
      ];
      await Promise.all(writesAndReads);
      const expectedTotal = before + 24;
      expect((await stored()).length).toBe(expectedTotal);
      expect((await page('Email', 'asc', 1)).total).toBe(expectedTotal);
      const counted = await service.db
        .selectFrom('organization_assignment_count')
        .select('assignment_count')
        .where('organization_id', '=', organization.id)
        .executeTakeFirstOrThrow();
      expect(counted.assignment_count).toBe(expectedTotal);
    });

    it('answers X-Total-Count 0 and [] for an organization with no reps, and [] past the end at any depth', async () => {
      const empty = await service.createOrganization('Empty Supply');
      const emptyAdmin = await service.token(empty, 'admin-empty', ['Admin']);
      const response = await service.call('GET', `${REPS_URL}?pageNumber=40&pageSize=50`, emptyAdmin);
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual([]);
      expect(response.headers['x-total-count']).toBe('0');
      expect((await page('LastName', 'desc', 1000)).ids).toEqual([]);
    });

    it('serves a page past the count it once cached, after the organization grew: never an empty page that exists', async () => {
      const growing = await service.createOrganization('Growing Supply');
      const growingAdmin = await service.token(growing, 'admin-growing', ['Admin']);
      const addAssignments = (from: number, to: number) =>
        sql`
        with reps as (
          insert into sales_rep (id, email, identity_provider_user_id)
          select 'grow-rep-' || i, 'grow' || i || '@example.com', 'grow-user-' || i
          from generate_series(${from}::int, ${to}::int) i
          returning id, email
        )
        insert into organization_sales_rep
          (id, organization_id, sales_rep_id, rep_number, roles, first_name, last_name, first_name_search,
            last_name_search, email)
        select substr(md5('grow' || id), 1, 22), ${growing.id}, id, 'G' || lpad(substr(id, 10), 5, '0'),
          '{SalesRep}', 'Grow', 'Rep', 'grow', 'rep', email
        from reps`.execute(service.db);
      const listPage = (pageNumber: number) =>
        service.call('GET', `${REPS_URL}?pageSize=25&pageNumber=${pageNumber}&sortOn=LastName`, growingAdmin);

      await addAssignments(1, 150);
      // Page 5 starts at row 100: it reads and caches the page boundaries of 150 rows.
      expect((await listPage(5)).json()).toHaveLength(25);
      await addAssignments(151, 400);
      const deeper = await listPage(9);
      expect(deeper.statusCode).toBe(200);
      expect(deeper.headers['x-total-count']).toBe('400');
      expect(deeper.json()).toHaveLength(25);
    });
  },
);
