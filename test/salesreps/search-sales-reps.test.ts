import { CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filteredPageStatement } from '../../src/salesreps/listing/filtered.js';
import { countedPageStatements } from '../../src/salesreps/listing/filtered-statements.js';
import { databaseKinds } from '../support/databases.js';
import { type AddedRep, addRep, expectProblem, type NewRep, REPS_URL } from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/service.js';

/** The searched fields' keys in one text, as the trigram index of migration 0021 has them. */
const SEARCH_KEYS_SQL =
  "(first_name_search || ' ' || last_name_search || ' ' || lower(email) || ' ' || lower(rep_number))";

/** The rel → URL map of a Link header. */
function parseLinks(header: string | string[] | number | undefined): Record<string, URL> {
  expect(typeof header).toBe('string');
  const links: Record<string, URL> = {};
  for (const match of String(header).matchAll(/<([^>]*)>; rel="(\w+)"/g)) {
    links[match[2] as string] = new URL(match[1] as string, 'http://localhost');
  }
  return links;
}

/**
 * The admin's list narrowed by `search` (a text anywhere in the first name, last name, email or rep number that this
 * organization gave the rep, in any letter case and with or without accents; a text of one or two characters at
 * the start) and by `active` (docs/api.md, "Searching and filtering the reps").
 */
describe.each(databaseKinds)('GET /api/organizations/salesreps?search=&active= on %s', (kind) => {
  let service: TestService;
  let admin: string;
  let otherAdmin: string;
  const reps: Record<string, AddedRep> = {};
  // Unique per run, so that the emails never meet another test's in the shared database.
  const run = Date.now().toString(36);

  const OWN: Record<string, Omit<NewRep, 'email'> & { email: string; deactivate?: boolean }> = {
    ann: { firstName: 'Ann', lastName: 'Lee', email: `ann.lee.${run}@example.com`, repNumber: 'REP-100' },
    emile: { firstName: 'Émile', lastName: 'Zola', email: `EZ.${run}@example.com`, repNumber: 'ZX-200' },
    bob: {
      firstName: 'Bob',
      lastName: 'Annan',
      email: `bob.${run}@example.com`,
      repNumber: 'R-300',
      deactivate: true,
    },
    carla: {
      firstName: 'Carla',
      lastName: 'Diaz',
      email: `carla.${run}@example.com`,
      repNumber: 'REP-400',
      deactivate: true,
    },
    joanna: {
      firstName: 'Joanna',
      lastName: 'Kleeman',
      email: `joanna.${run}@example.com`,
      repNumber: 'X-ANN',
    },
  };

  beforeAll(async () => {
    service = await startTestService(kind);
    const organization = await service.createOrganization('Search Supply');
    const other = await service.createOrganization('Other Tenant');
    admin = await service.token(organization, 'admin-search', ['Admin']);
    otherAdmin = await service.token(other, 'admin-other', ['Admin']);
    for (const [key, { deactivate, ...rep }] of Object.entries(OWN)) {
      reps[key] = await addRep(service, admin, rep);
      if (deactivate) {
        const response = await service.call('POST', `${REPS_URL}/deactivate`, admin, {
          organizationSalesRepId: reps[key]?.organizationSalesRepId,
        });
        expect(response.statusCode).toBe(200);
      }
    }
    // The other organization's words for Ann (the same person, by email) and a rep of its own.
    await addRep(service, otherAdmin, {
      firstName: 'Zed',
      lastName: 'Quux',
      email: OWN.ann?.email,
      repNumber: 'Q-1',
    });
    await addRep(service, otherAdmin, { firstName: 'Annika', lastName: 'Other', repNumber: 'REP-999' });
  }, 60_000);
  afterAll(() => service.close());

  const list = (query: string, token = admin) => service.call('GET', `${REPS_URL}${query}`, token);
  /** The keys of the listed reps, in the order listed. */
  const found = async (query: string, token = admin) => {
    const response = await list(query, token);
    expect(response.statusCode, response.body).toBe(200);
    const ids = (response.json() as { organizationSalesRepId: string }[]).map(
      (rep) => rep.organizationSalesRepId,
    );
    return ids.map((id) => Object.keys(reps).find((key) => reps[key]?.organizationSalesRepId === id) ?? id);
  };

  it('finds the text anywhere in the first name, in any letter case, with or without its accents', async () => {
    expect(await found('?search=oann')).toEqual(['joanna']);
    expect(await found('?search=OANN')).toEqual(['joanna']);
    expect(await found('?search=mile')).toEqual(['emile']);
    expect(await found('?search=emile')).toEqual(['emile']);
    expect(await found('?search=%C3%A9mi')).toEqual(['emile']); // émi
    expect(await found('?search=%C3%89MI')).toEqual(['emile']); // ÉMI
    expect(await found('?search=E%CC%81MILE')).toEqual(['emile']); // ÉMILE, decomposed
  });

  it('finds the text anywhere in the last name, an accented text finding an unaccented name too', async () => {
    expect(await found('?search=ola')).toEqual(['emile']);
    expect(await found('?search=IAZ')).toEqual(['carla']);
    expect(await found('?search=d%C3%AD%C3%A1z')).toEqual(['carla']); // díáz
    expect(await found('?search=leem')).toEqual(['joanna']);
  });

  it('finds the text anywhere in the email', async () => {
    expect(await found(`?search=z.${run}`)).toEqual(['emile']);
    expect(await found(`?search=LA.${run}%40EX`)).toEqual(['carla']);
  });

  it('finds the text anywhere in the rep number', async () => {
    expect(await found('?search=-100')).toEqual(['ann']);
    expect(await found('?search=ep-')).toEqual(['ann', 'carla']);
    expect(await found('?search=X-2')).toEqual(['emile']);
  });

  it('matches a rep once when several of its fields hold the text', async () => {
    // Ann's first name and email, Bob's last name, Joanna's first name, email and rep number; sorted by rep
    // number ("R-300" before "REP-100", byte order).
    const response = await list('?search=ann');
    expect(response.headers['x-total-count']).toBe('3');
    expect(await found('?search=ann')).toEqual(['bob', 'ann', 'joanna']);
  });

  it('matches the start of a field only for a text of one or two characters', async () => {
    expect(await found('?search=jo')).toEqual(['joanna']);
    expect(await found('?search=%C3%89M')).toEqual(['emile']); // ÉM
    expect(await found('?search=AN')).toEqual(['bob', 'ann']);
    expect(await found('?search=ee')).toEqual([]);
    expect(await found('?search=z')).toEqual(['emile']);
  });

  it('takes LIKE wildcards and the escape character as text', async () => {
    for (const text of ['%25', '_', '%25nn', '_nn', 'a_n', '%25%25%25', '%5C%25', 'jo%25a', 'le_']) {
      expect(await found(`?search=${text}`), text).toEqual([]);
    }
    const percent = await addRep(service, admin, {
      firstName: 'Per_cent',
      lastName: 'Back\\slash',
      email: `per.cent.${run}@example.com`,
      repNumber: 'P_5%',
    });
    try {
      expect(await found('?search=_5%25')).toEqual([percent.organizationSalesRepId]);
      expect(await found('?search=per_cent')).toEqual([percent.organizationSalesRepId]);
      expect(await found('?search=k%5Cs')).toEqual([percent.organizationSalesRepId]); // k\s
      expect(await found('?search=perxcent')).toEqual([]);
      expect(await found('?search=k%5C%5Cs')).toEqual([]); // k\\s
    } finally {
      const removed = await service.call('DELETE', REPS_URL, admin, {
        organizationSalesRepId: percent.organizationSalesRepId,
      });
      expect(removed.statusCode).toBe(200);
    }
  });

  it("never finds another organization's reps, nor a rep by another organization's names for it", async () => {
    expect(await found('?search=annika')).toEqual([]);
    expect(await found('?search=nik')).toEqual([]);
    expect(await found('?search=zed')).toEqual([]);
    expect(await found('?search=quux')).toEqual([]);
    expect(await found('?search=uu')).toEqual([]);
    expect(await found('?search=q-1')).toEqual([]);
    expect(await found('?search=-999')).toEqual([]);
    // And the other way round: the other organization finds Ann by its own words only.
    expect(await found('?search=zed', otherAdmin)).toHaveLength(1);
    expect(await found('?search=klee', otherAdmin)).toEqual([]);
    expect(await found('?search=ola', otherAdmin)).toEqual([]);
    expect(await found('?search=ann', otherAdmin)).toHaveLength(2);
  });

  it('filters by the active status of the assignment', async () => {
    expect(await found('?active=false')).toEqual(['bob', 'carla']);
    expect(await found('?active=true')).toEqual(['ann', 'joanna', 'emile']);
    expect(await found('?active=false&search=ann')).toEqual(['bob']);
    expect(await found('?active=true&search=ann')).toEqual(['ann', 'joanna']);
  });

  it('sorts and pages the matches, with X-Total-Count and Link of the filtered list keeping the filters', async () => {
    const query = '?search=rep-&active=true&sortOn=FirstName&sortDirection=desc&pageSize=1';
    expect(await found(`${query}&pageNumber=1`)).toEqual(['ann']);
    const all = '?search=r&sortOn=lastname&sortDirection=DESC&pageSize=2';
    // R-300 (Bob Annan), REP-100 (Ann Lee), REP-400 (Carla Diaz): by last name, descending.
    expect(await found(`${all}&pageNumber=1`)).toEqual(['ann', 'carla']);
    const second = await list(`${all}&pageNumber=2&active=false`);
    expect(second.statusCode).toBe(200);
    expect(second.headers['x-total-count']).toBe('2');
    expect(second.json()).toEqual([]);
    const page = await list(`${all}&pageNumber=2`);
    expect(page.headers['x-total-count']).toBe('3');
    expect(await found(`${all}&pageNumber=2`)).toEqual(['bob']);
    const links = parseLinks(page.headers.link);
    expect(Object.keys(links).sort()).toEqual(['first', 'last', 'prev']);
    for (const link of Object.values(links)) {
      expect(link.searchParams.get('search')).toBe('r');
      expect(link.searchParams.get('sortOn')).toBe('LastName');
      expect(link.searchParams.get('sortDirection')).toBe('desc');
      expect(link.searchParams.get('active')).toBeNull();
    }
    expect(links.last?.searchParams.get('pageNumber')).toBe('2');
    const inactive = parseLinks((await list('?active=false&pageSize=1')).headers.link);
    expect(inactive.next?.searchParams.get('active')).toBe('false');
    expect(inactive.last?.searchParams.get('pageNumber')).toBe('2');
    expect(inactive.next?.searchParams.get('search')).toBeNull();
  });

  it('counts only the matches in X-Total-Count', async () => {
    expect((await list('?search=zz')).headers['x-total-count']).toBe('0');
    expect((await list('?active=false')).headers['x-total-count']).toBe('2');
    expect((await list('?active=true&pageSize=1')).headers['x-total-count']).toBe('3');
    expect((await list('')).headers['x-total-count']).toBe('5');
  });

  it('counts again after every change: a repeated search or filter never answers a stale total', async () => {
    const total = async (query: string) => (await list(query)).headers['x-total-count'];
    expect(await total('?search=kle')).toBe('1');
    expect(await total('?active=true&search=kle')).toBe('1');
    const added = await addRep(service, admin, {
      firstName: 'Klee',
      lastName: 'Paul',
      email: `paul.klee.${run}@example.com`,
      repNumber: 'PK-1',
    });
    expect(await total('?search=kle')).toBe('2');
    const deactivated = await service.call('POST', `${REPS_URL}/deactivate`, admin, {
      organizationSalesRepId: added.organizationSalesRepId,
    });
    expect(deactivated.statusCode).toBe(200);
    expect(await total('?active=true&search=kle')).toBe('1');
    expect(await total('?active=false&search=kle')).toBe('1');
    const removed = await service.call('DELETE', REPS_URL, admin, {
      organizationSalesRepId: added.organizationSalesRepId,
    });
    expect(removed.statusCode).toBe(200);
    expect(await total('?search=kle')).toBe('1');
    expect(await total('?active=false&search=kle')).toBe('0');
    expect(await total('?active=false')).toBe('2');
  });

  it('takes a search of up to 100 characters', async () => {
    expect(await found(`?search=${'a'.repeat(100)}`)).toEqual([]);
  });

  it.each([
    [`search=${'a'.repeat(101)}`, 'search'],
    ['search=', 'search'],
    ['active=yes', 'active'],
    ['active=1', 'active'],
    ['active=', 'active'],
    ['active=true&active=false', 'active'],
  ])('refuses ?%s with a 400 problem naming %s', async (query, field) => {
    expectProblem(await list(`?${query}`), 400, [field]);
  });

  describe("a search reads the organization's index entries, whatever the other organizations hold", () => {
    let bigId: string;

    beforeAll(async () => {
      const big = await service.createOrganization('Big Search Supply');
      const crowd = await service.createOrganization('Crowd');
      bigId = big.id;
      // 4,000 reps in one organization, 36,000 in the other, few of them named "Quentin"; a batch per statement,
      // each well within the statement timeout on a busy machine.
      for (let first = 1; first <= 40_000; first += 4000) {
        const last = first + 3999;
        await sql`
          insert into sales_rep (id, email, identity_provider_user_id)
          select 'plan-rep-' || i, 'plan' || i || '.' || ${run} || '@example.com', 'plan-user-' || ${run} || i
          from generate_series(${first}::int, ${last}::int) i`.execute(service.db);
        await sql`
          insert into organization_sales_rep (id, organization_id, sales_rep_id, rep_number, active, roles,
            first_name, last_name, first_name_search, last_name_search, email)
          select 'plan-as-' || i, case when i <= 4000 then ${big.id} else ${crowd.id} end, 'plan-rep-' || i,
            'P' || i, i % 20 <> 7, '{SalesRep}', n.first_name, 'Rep', lower(n.first_name), 'rep',
            'plan' || i || '.' || ${run} || '@example.com'
          from generate_series(${first}::int, ${last}::int) i
          cross join lateral (
            select case when i % 500 = 0 then 'Quentin' else 'Name' || (i % 50) end as first_name
          ) n`.execute(service.db);
      }
      await sql`analyze organization_sales_rep`.execute(service.db);
    }, 120_000);

    const planOf = async (statement: CompiledQuery<unknown>) => {
      const { rows } = await service.db.executeQuery<Record<string, unknown>>(
        CompiledQuery.raw(`explain ${statement.sql}`, [...statement.parameters]),
      );
      return rows.map((row) => String(row['QUERY PLAN'])).join('\n');
    };

    it.each(['RepNumber', 'LastName', 'PhoneNumber'] as const)(
      'sorted on %s: a search of three letters reads the trigram index within its organization, never a table scan',
      async (sortOn) => {
        const plan = await planOf(
          filteredPageStatement(
            service.db,
            bigId,
            { search: 'quen' },
            { sortOn, sortDirection: 'asc', limit: 25, offset: 0 },
            { way: 'sort', countWhenChanged: true },
          ),
        );
        expect(plan, plan).toMatch(/Bitmap Index Scan on organization_sales_rep_search_trigrams/);
        expect(plan, plan).not.toMatch(
          /organization_sales_rep_search_(first|last)_name|_search_email|_search_rep_number/,
        );
        expect(plan, plan).not.toMatch(/Seq Scan/);
      },
    );

    it.each(['RepNumber', 'LastName', 'PhoneNumber'] as const)(
      'sorted on %s: a first search reads its matches once, by the trigram index, for its count and its page',
      async (sortOn) => {
        const plan = await planOf(
          countedPageStatements
            .get(service.db, {
              search: 'trigrams',
              crossing: false,
              active: false,
              sortOn,
              sortDirection: 'asc',
            })
            .bind({ organizationId: bigId, search: '%quen%', limit: 25, offset: 0 }),
        );
        expect(plan.match(/Bitmap Heap Scan on organization_sales_rep/g), plan).toHaveLength(1);
        expect(plan, plan).toMatch(/Bitmap Index Scan on organization_sales_rep_search_trigrams/);
        expect(plan, plan).not.toMatch(
          /Seq Scan|(?<!Bitmap )Index (Only )?Scan (using|on) organization_sales_rep/,
        );
        // A text without a space is compared with the keys alone: it cannot span two fields.
        expect(plan, plan).not.toMatch(/first_name_search ~~/);
      },
    );

    it.each(['RepNumber', 'LastName', 'PhoneNumber'] as const)(
      'sorted on %s: a search of two characters is prefix index scans of its organization, never a table scan',
      async (sortOn) => {
        const plan = await planOf(
          filteredPageStatement(
            service.db,
            bigId,
            { search: 'qu' },
            { sortOn, sortDirection: 'asc', limit: 25, offset: 0 },
            { way: 'sort', countWhenChanged: true },
          ),
        );
        expect(plan, plan).toMatch(/Index (Only )?Scan (using|on) organization_sales_rep_search_first_name/);
        expect(plan, plan).not.toMatch(/Seq Scan/);
      },
    );

    it('walks at most its budget of the sort index of its organization before sorting, never a table scan', async () => {
      const plan = await planOf(
        filteredPageStatement(
          service.db,
          bigId,
          { search: 'quen' },
          { sortOn: 'PhoneNumber', sortDirection: 'asc', limit: 25, offset: 0 },
          { way: 'walkThenSort', walkBudget: 100, countWhenChanged: true },
        ),
      );
      expect(plan, plan).toMatch(
        /Index (Only )?Scan( Backward)? (using|on) organization_sales_rep_by_phone_number/,
      );
      expect(plan, plan).not.toMatch(/Seq Scan/);
    });

    it.each([
      ['asc', '>='],
      ['desc', '<='],
    ] as const)(
      'a walk sorted %s starts at the first match: a bound of the sort index, not its start',
      async (sortDirection, bound) => {
        const plan = await planOf(
          filteredPageStatement(
            service.db,
            bigId,
            { search: 'quen' },
            { sortOn: 'FirstName', sortDirection, limit: 25, offset: 0 },
            { way: 'walkThenSort', walkBudget: 100, countWhenChanged: true, walkFrom: 'Quentin' },
          ),
        );
        expect(plan, plan).toMatch(
          /Index (Only )?Scan( Backward)? (using|on) organization_sales_rep_by_first_name/,
        );
        expect(plan, plan).toContain(`first_name ${bound} 'Quentin'::text`);
        expect(plan, plan).not.toMatch(/Seq Scan/);
      },
    );

    it('narrows a rare text by the trigram index within its organization', async () => {
      const { rows } = await service.db.executeQuery<Record<string, unknown>>(
        CompiledQuery.raw(
          `explain select id from organization_sales_rep
           where organization_id collate "C" = $1 and ${SEARCH_KEYS_SQL} like '%quentin%'`,
          [bigId],
        ),
      );
      const plan = rows.map((row) => String(row['QUERY PLAN'])).join('\n');
      expect(plan, plan).toMatch(/Bitmap Index Scan on organization_sales_rep_search_trigrams/);
      expect(plan, plan).toMatch(/Index Cond: \(\(\(organization_id\)::text = /);
    });

    it('filters active=false from an index of its organization, never a table scan', async () => {
      const plan = await planOf(
        filteredPageStatement(
          service.db,
          bigId,
          { active: false },
          { sortOn: 'LastName', sortDirection: 'desc', limit: 25, offset: 100 },
          { way: 'walk', countWhenChanged: true },
        ),
      );
      expect(plan, plan).toMatch(/Index (Only )?Scan( Backward)? (using|on) organization_sales_rep_by_/);
      expect(plan, plan).not.toMatch(/Seq Scan/);
    });
  });

  describe('a text with a space, which the keys put between fields', () => {
    let spaceAdmin: string;
    const spaced: Record<string, AddedRep> = {};

    beforeAll(async () => {
      const organization = await service.createOrganization('Space Supply');
      spaceAdmin = await service.token(organization, 'admin-space', ['Admin']);
      spaced.maryAnn = await addRep(service, spaceAdmin, { firstName: 'Mary Ann', lastName: 'Smith' });
      spaced.mary = await addRep(service, spaceAdmin, { firstName: 'Mary', lastName: 'Annan' });
    }, 60_000);

    const spacedFound = async (search: string) => {
      const response = await list(`?search=${encodeURIComponent(search)}&sortOn=LastName`, spaceAdmin);
      expect(response.statusCode, response.body).toBe(200);
      return (response.json() as { organizationSalesRepId: string }[]).map(
        (rep) =>
          Object.keys(spaced).find(
            (key) => spaced[key]?.organizationSalesRepId === rep.organizationSalesRepId,
          ) ?? rep.organizationSalesRepId,
      );
    };

    it('matches within one field only, never across the first and last names', async () => {
      expect(await spacedFound('y ann')).toEqual(['maryAnn']);
      expect(await spacedFound('RY AN')).toEqual(['maryAnn']);
      expect(await spacedFound('mary annan')).toEqual([]);
      expect(await spacedFound('ann smith')).toEqual([]);
      expect(await spacedFound('ann')).toEqual(['mary', 'maryAnn']);
    });
  });

  describe('a search that a walk of the sort order may serve (many matches, none by the sorted field)', () => {
    let walkAdmin: string;
    /** The walk organization's assignments: 1,000, every 5th with an email starting "wa-" and a phone after all others'. */
    const assignmentId = (i: number) => `walk-as-${run}-${i}`;
    const matching = Array.from({ length: 200 }, (_, index) => 5 * (index + 1));

    beforeAll(async () => {
      const organization = await service.createOrganization('Walk Supply');
      walkAdmin = await service.token(organization, 'admin-walk', ['Admin']);
      await sql`
        insert into sales_rep (id, email, identity_provider_user_id)
        select 'walk-rep-' || ${run} || '-' || i, 'walk' || i || '.' || ${run} || '@example.com', 'walk-user-' || ${run} || i
        from generate_series(1, 1000) i`.execute(service.db);
      await sql`
        insert into organization_sales_rep (id, organization_id, sales_rep_id, rep_number, active, roles, first_name,
          last_name, first_name_search, last_name_search, email, phone_number)
        select 'walk-as-' || ${run} || '-' || i, ${organization.id}, 'walk-rep-' || ${run} || '-' || i, 'N' || i,
          true, '{SalesRep}', 'First', 'Last', 'first', 'last',
          case when i % 5 = 0 then 'wa-' else 'xb-' end || i || '.' || ${run} || '@example.com',
          case when i % 5 = 0 then '+9 ' else '+1 ' end || lpad(i::text, 4, '0')
        from generate_series(1, 1000) i`.execute(service.db);
    }, 60_000);

    const ids = async (query: string) => {
      const response = await list(query, walkAdmin);
      expect(response.statusCode, response.body).toBe(200);
      return {
        total: response.headers['x-total-count'],
        ids: (response.json() as { organizationSalesRepId: string }[]).map(
          (rep) => rep.organizationSalesRepId,
        ),
      };
    };

    it('answers the first matches of the order whether the walk fills the page or runs out before it', async () => {
      // By phone descending the matches come first: the walk fills the page at once.
      const descending = '?search=WA-&sortOn=PhoneNumber&sortDirection=desc&pageSize=2';
      expect(await ids(descending)).toEqual({ total: '200', ids: [assignmentId(1000), assignmentId(995)] });
      // Ascending, the 800 others come first: the walk runs out, the matches are sorted; again when asked again.
      const ascending = '?search=wa-&sortOn=PhoneNumber&sortDirection=asc&pageSize=2';
      for (let attempt = 0; attempt < 2; attempt++) {
        expect(await ids(ascending)).toEqual({ total: '200', ids: [assignmentId(5), assignmentId(10)] });
      }
      expect(await ids(`${ascending}&pageNumber=3`)).toEqual({
        total: '200',
        ids: [assignmentId(25), assignmentId(30)],
      });
      // By rep number ("N1", "N10", "N100", "N1000", ...: byte order), matches spread over the order.
      const byRepNumber = [...matching].sort((a, b) => (`N${a}` < `N${b}` ? -1 : 1)).slice(0, 2);
      expect(await ids('?search=wa-&sortOn=RepNumber&pageSize=2')).toEqual({
        total: '200',
        ids: byRepNumber.map(assignmentId),
      });
    });

    it("answers matches that gather at the end of their own field's order from the first of them, also after a write", async () => {
      // By email descending the 800 "xb-" emails come first and the 200 matches after them, together.
      const descending = '?search=wa-&sortOn=Email&sortDirection=desc&pageSize=2';
      expect(await ids(descending)).toEqual({ total: '200', ids: [assignmentId(995), assignmentId(990)] });
      const emailOf = (i: number) => `wa-${i}.${run}@example.com`;
      const byEmailDescending = [...matching].sort((a, b) => (emailOf(a) < emailOf(b) ? 1 : -1));
      expect(await ids(`${descending}&pageNumber=50`)).toEqual({
        total: '200',
        ids: byEmailDescending.slice(98, 100).map(assignmentId),
      });
      // A new match after the last one the count saw (first in this order): the page starts with it.
      const added = await addRep(service, walkAdmin, {
        firstName: 'Wanda',
        lastName: 'Last',
        email: `wa-zz.${run}@example.com`,
        repNumber: 'N-ZZ',
      });
      expect(await ids(descending)).toEqual({
        total: '201',
        ids: [added.organizationSalesRepId, assignmentId(995)],
      });
      const removed = await service.call('DELETE', REPS_URL, walkAdmin, {
        organizationSalesRepId: added.organizationSalesRepId,
      });
      expect(removed.statusCode, removed.body).toBe(200);
      expect(await ids(descending)).toEqual({ total: '200', ids: [assignmentId(995), assignmentId(990)] });
    });

    it.each([
      ['wa-', '200'],
      ['ast', '1000'],
    ])(
      'a first search of %s, counted with its page in one statement, answers the page a counted search does, in every order',
      async (text, total) => {
        for (const sortOn of ['FirstName', 'LastName', 'Email', 'RepNumber', 'PhoneNumber', 'Active']) {
          for (const sortDirection of ['asc', 'desc']) {
            // A write moves the organization's version, so that the next search counts afresh.
            const moved = await sql`
              update organization_sales_rep set phone_number = ${`+5 ${sortOn} ${sortDirection}`}
              where id = ${assignmentId(1)}`.execute(service.db);
            expect(moved.numAffectedRows).toBe(1n);
            const query = `?search=${text}&sortOn=${sortOn}&sortDirection=${sortDirection}&pageSize=3&pageNumber=2`;
            const first = await ids(query);
            expect(first.total).toBe(total);
            expect(first.ids).toHaveLength(3);
            expect(await ids(query), `${sortOn} ${sortDirection}`).toEqual(first);
          }
        }
      },
    );

    it('after a write, finds a new match first in the order it walked out of before', async () => {
      const ascending = '?search=wa-&sortOn=PhoneNumber&sortDirection=asc&pageSize=2';
      expect((await ids(ascending)).ids).toEqual([assignmentId(5), assignmentId(10)]);
      const added = await addRep(service, walkAdmin, {
        firstName: 'Walter',
        lastName: 'First',
        email: `wa-new.${run}@example.com`,
        repNumber: 'N-NEW',
        phoneNumber: '+0 0000',
      });
      expect(await ids(ascending)).toEqual({
        total: '201',
        ids: [added.organizationSalesRepId, assignmentId(5)],
      });
      const moved = await sql`
        update organization_sales_rep set phone_number = '+0 0001' where id = ${assignmentId(10)}`.execute(
        service.db,
      );
      expect(moved.numAffectedRows).toBe(1n);
      expect(await ids(ascending)).toEqual({
        total: '201',
        ids: [added.organizationSalesRepId, assignmentId(10)],
      });
    });
  });
});
