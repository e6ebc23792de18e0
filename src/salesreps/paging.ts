import { CompiledQuery, type RawBuilder, sql } from 'kysely';
import type { Executor } from '../db/database.js';
import type { OrganizationSalesRep } from '../db/schema.js';
import { rememberPerOwner } from '../kernel/remember.js';
import type { SortDirection } from '../kernel/sort-direction.js';
import type { SortField } from './schemas.js';

/*
 * The deep-paging engine of the admin's list: any page of any sort of an organization's assignments, exact (OFFSET
 * semantics) and fast at any depth, from one table and one index per sort order (docs/performance.md).
 */

export interface PageRequest {
  sortOn: SortField;
  sortDirection: SortDirection;
  limit: number;
  offset: number;
}

/** One page of assignments with the organization's total. */
export interface AssignmentPage {
  rows: AssignmentListRow[];
  total: number;
}

/** The columns of a listed assignment, as the list reads them. */
export type AssignmentListRow = Pick<
  OrganizationSalesRep,
  | 'organization_id'
  | 'id'
  | 'sales_rep_id'
  | 'first_name'
  | 'last_name'
  | 'email'
  | 'phone_number'
  | 'rep_number'
  | 'active'
>;

/**
 * The sort key of each sort field, most significant first, each matching one index (migrations 0001, 0004). The
 * id ends every key but the rep number's (unique in an organization), so that no two rows tie and pages never
 * overlap. The phone number sorts as `phone_number nulls last, id` (first in descending order), spelled so that
 * no part of the key is NULL: a row comparison with the key then seeks anywhere, NULL part included.
 */
const SORT_KEYS: Record<SortField, readonly RawBuilder<unknown>[]> = {
  RepNumber: [sql`rep_number`],
  FirstName: [sql`first_name`, sql`id`],
  LastName: [sql`last_name`, sql`id`],
  Email: [sql`email`, sql`id`],
  PhoneNumber: [sql`(phone_number is null)`, sql`coalesce(phone_number, '')`, sql`id`],
  Active: [sql`active`, sql`id`],
};

/** A page boundary is kept every this many rows of an order; a deep page skips fewer rows than this. */
const BOUNDARY_INTERVAL = 100;
/** Boundaries read again this many times when writes change the organization meanwhile. */
const BOUNDARY_ATTEMPTS = 3;
/** Cached boundary sets per database handle; one is 1,000 keys for 100,000 rows (about 100 kB). */
const BOUNDARY_CACHE_ENTRIES = 1000;

/** The keys at ascending positions 0, BOUNDARY_INTERVAL, 2 × BOUNDARY_INTERVAL, ... of one organization's order. */
interface PageBoundaries {
  /** The organization's assignment version they were read at, with its assignment count. */
  version: string;
  count: number;
  keys: unknown[][];
}

const boundaryCaches = rememberPerOwner<{
  wantedVersion: string | undefined;
  boundaries: Promise<PageBoundaries>;
}>(BOUNDARY_CACHE_ENTRIES);

function keyColumns(sortOn: SortField) {
  return SORT_KEYS[sortOn].map((expression, index) => sql`${expression} as ${sql.ref(`k${index}`)}`);
}

function orderByKeys(sortOn: SortField, direction: SortDirection, table?: string) {
  const dir = sql.raw(direction);
  return sql.join(
    SORT_KEYS[sortOn].map((expression, index) =>
      table ? sql`${sql.ref(`${table}.k${index}`)} ${dir}` : sql`${expression} ${dir}`,
    ),
  );
}

/** A page statement's values, filled into the placeholders it was compiled with. */
interface PageValues {
  organizationId: string;
  limit: number;
  offset: number;
  /** The boundary key and version a seek starts from. */
  from: { key: unknown[]; version: string } | undefined;
}

/**
 * Stands for one of a statement's values while the statement is compiled once; `read` takes the value of a run.
 * Building and compiling a statement on each request cost more CPU than reading its rows.
 */
class Placeholder<V> {
  constructor(readonly read: (values: V) => unknown) {}
}

/** A statement compiled with placeholders, with one run's values in their places. */
function bind<V>(statement: CompiledQuery<unknown>, values: V): CompiledQuery<unknown> {
  return CompiledQuery.raw(
    statement.sql,
    statement.parameters.map((parameter) =>
      parameter instanceof Placeholder ? (parameter as Placeholder<V>).read(values) : parameter,
    ),
  );
}

const placeholder = {
  organizationId: new Placeholder<PageValues>((values) => values.organizationId),
  limit: new Placeholder<PageValues>((values) => values.limit),
  offset: new Placeholder<PageValues>((values) => values.offset),
  version: new Placeholder<PageValues>((values) => values.from?.version),
  key: (index: number) => new Placeholder<PageValues>((values) => values.from?.key[index]),
};

type PageRow = Partial<AssignmentListRow> & { list_version: string; total: number };

/**
 * The page statement of each sort, direction and start (the first row, or a boundary key), compiled once. Every
 * dialect here compiles PostgreSQL, so one compilation serves them all.
 */
const pageStatements = new Map<string, CompiledQuery<PageRow>>();

function pageStatement(db: Executor, page: PageRequest, seek: boolean): CompiledQuery<PageRow> {
  const shape = `${page.sortOn} ${page.sortDirection} ${seek}`;
  let statement = pageStatements.get(shape);
  if (!statement) {
    const keys = SORT_KEYS[page.sortOn];
    const seekCondition = seek
      ? sql`and (${sql.join(keys)}) ${sql.raw(page.sortDirection === 'asc' ? '>=' : '<=')} (${sql.join(keys.map((_, index) => placeholder.key(index)))})
          and c.version = ${placeholder.version}`
      : sql``;
    statement = sql<PageRow>`
      select c.version::text as list_version, c.assignment_count as total,
        a.organization_id, a.id, a.sales_rep_id, a.first_name, a.last_name, a.email, a.phone_number, a.rep_number,
        a.active
      from organization_assignment_count c
      left join lateral (
        select id, ${sql.join(keyColumns(page.sortOn))}
        from organization_sales_rep
        where organization_id = ${placeholder.organizationId} ${seekCondition}
        order by ${orderByKeys(page.sortOn, page.sortDirection)}
        limit ${placeholder.limit} offset ${placeholder.offset}
      ) page on true
      left join organization_sales_rep a on a.id = page.id
      where c.organization_id = ${placeholder.organizationId}
      order by ${orderByKeys(page.sortOn, page.sortDirection, 'page')}`.compile(db);
    pageStatements.set(shape, statement);
  }
  return statement;
}

/**
 * One page and the organization's total, in one statement (one snapshot, one round trip). The ids come from an
 * index-only scan of the sort's index (OFFSET skips index entries, never table rows), then only those rows are
 * read; the total is the count its triggers keep exact. With `from`, the scan starts at a page boundary instead of
 * the first row, and runs only while the organization's assignments are still at `from.version` in this
 * statement's snapshot; `listVersion` tells which version that snapshot saw.
 */
async function selectPage(
  db: Executor,
  organizationId: string,
  page: PageRequest,
  offset: number,
  from?: { key: unknown[]; version: string },
): Promise<AssignmentPage & { listVersion: string | undefined }> {
  const statement = pageStatement(db, page, from !== undefined);
  const values: PageValues = { organizationId, limit: page.limit, offset, from };
  const { rows } = await db.executeQuery<PageRow>(bind(statement, values));
  // No count row: the organization never had a rep.
  const first = rows[0];
  return {
    // The left join's NULL row stands for an empty page; every other row is a whole assignment.
    rows: rows.filter((row) => row.id != null) as AssignmentListRow[],
    total: first?.total ?? 0,
    listVersion: first?.list_version,
  };
}

/** Reads the boundaries of an order, with the version and count they belong to, in one snapshot. */
async function readPageBoundaries(
  db: Executor,
  organizationId: string,
  sortOn: SortField,
): Promise<PageBoundaries> {
  const keys = SORT_KEYS[sortOn];
  const { rows } = await sql<{ version: string; assignment_count: number } & Record<string, unknown>>`
    select c.version::text as version, c.assignment_count, b.*
    from organization_assignment_count c
    left join lateral (
      select ${sql.join(keys.map((_, index) => sql.ref(`k${index}`)))}
      from (
        select ${sql.join(keyColumns(sortOn))},
          row_number() over (order by ${orderByKeys(sortOn, 'asc')}) - 1 as position
        from organization_sales_rep where organization_id = ${organizationId}
      ) numbered
      where position % ${BOUNDARY_INTERVAL} = 0
      order by position
    ) b on true
    where c.organization_id = ${organizationId}`.execute(db);
  const first = rows[0];
  if (!first) return { version: '0', count: 0, keys: [] };
  return {
    version: first.version,
    count: first.assignment_count,
    keys: first.assignment_count === 0 ? [] : rows.map((row) => keys.map((_, index) => row[`k${index}`])),
  };
}

/**
 * The cached boundaries of an order, or fresh ones when there are none or when they were read for another
 * version than `currentVersion` (the one the database was last seen at).
 */
function pageBoundaries(
  db: Executor,
  organizationId: string,
  sortOn: SortField,
  currentVersion: string | undefined,
): Promise<PageBoundaries> {
  const cache = boundaryCaches(db);
  const cacheKey = `${organizationId}\u0000${sortOn}`;
  const cached = cache.recall(cacheKey);
  if (cached && (currentVersion === undefined || cached.wantedVersion === currentVersion)) {
    return cached.boundaries;
  }
  const boundaries = readPageBoundaries(db, organizationId, sortOn);
  const entry = { wantedVersion: currentVersion, boundaries };
  cache.keep(cacheKey, entry);
  boundaries.then(
    (read) => {
      entry.wantedVersion = read.version;
    },
    () => {
      if (cache.recall(cacheKey) === entry) cache.forget(cacheKey);
    },
  );
  return boundaries;
}

/**
 * One page of an organization's assignments, exact at any depth (OFFSET semantics, ties broken by id). A page
 * within the first BOUNDARY_INTERVAL rows of an order is read directly. A deeper one starts at the nearest cached
 * page boundary before it (the key at a known position, descending pages counting from the end), so that it
 * skips fewer than BOUNDARY_INTERVAL index entries; the boundaries hold only while the organization's version is
 * the one they were read at, which the page's own statement checks. A stale set is read again (one index-only
 * scan of the organization) and the page retried.
 */
export async function listAssignmentsPage(
  db: Executor,
  organizationId: string,
  page: PageRequest,
): Promise<AssignmentPage> {
  if (page.offset < BOUNDARY_INTERVAL) return selectPage(db, organizationId, page, page.offset);
  let knownVersion: string | undefined;
  for (let attempt = 0; attempt < BOUNDARY_ATTEMPTS; attempt++) {
    const boundaries = await pageBoundaries(db, organizationId, page.sortOn, knownVersion);
    if (page.offset >= boundaries.count) {
      // Past the end only if the organization has not grown since the boundaries were read.
      const current = await assignmentVersion(db, organizationId);
      if (current === boundaries.version) return { rows: [], total: boundaries.count };
      knownVersion = current;
      continue;
    }
    let index: number;
    let skip: number;
    if (page.sortDirection === 'asc') {
      index = Math.floor(page.offset / BOUNDARY_INTERVAL);
      skip = page.offset - index * BOUNDARY_INTERVAL;
    } else {
      // Descending position p is ascending position count - 1 - p: start at the first boundary at or after it.
      const ascending = boundaries.count - 1 - page.offset;
      index = Math.ceil(ascending / BOUNDARY_INTERVAL);
      skip = page.offset - (boundaries.count - 1 - index * BOUNDARY_INTERVAL);
    }
    const key = boundaries.keys[index];
    if (!key) throw new Error(`No page boundary ${index} for offset ${page.offset} of ${boundaries.count}`);
    const result = await selectPage(db, organizationId, page, skip, { key, version: boundaries.version });
    if (result.listVersion === boundaries.version) return result;
    knownVersion = result.listVersion;
  }
  // Writes keep outrunning the boundaries: skip every row before the page, which is exact at any rate.
  return selectPage(db, organizationId, page, page.offset);
}

/** The organization's assignment version, which every insert, delete and sort-key change moves on. */
async function assignmentVersion(db: Executor, organizationId: string): Promise<string> {
  const row = await db
    .selectFrom('organization_assignment_count')
    .select(sql<string>`version::text`.as('version'))
    .where('organization_id', '=', organizationId)
    .executeTakeFirst();
  return row?.version ?? '0';
}

/** Which assignments a filtered list reads; the unfiltered list is listAssignmentsPage's. */
export interface AssignmentFilter {
  /** A search key (src/kernel/search.ts) that the first name, last name, email or rep number starts with. */
  searchPrefix?: string | undefined;
  active?: boolean | undefined;
}

/** Filtered totals kept per database handle, each with the organization's version it was counted at. */
const FILTERED_COUNT_CACHE_ENTRIES = 10_000;
const filteredCounts = rememberPerOwner<KnownTotal>(FILTERED_COUNT_CACHE_ENTRIES);

/** Which filters a filtered statement has: with the sort, what it is compiled for (the values are bound per run). */
interface FilterShape {
  search: boolean;
  active: boolean;
}

function shapeOf(filter: AssignmentFilter): FilterShape {
  return { search: filter.searchPrefix !== undefined, active: filter.active !== undefined };
}

/** A filtered statement's values, filled into the placeholders it was compiled with. */
interface FilterValues {
  organizationId: string;
  filter: AssignmentFilter;
  limit?: number;
  offset?: number;
  known?: KnownTotal | undefined;
  walkBudget?: number;
}

const filterPlaceholder = {
  organizationId: new Placeholder<FilterValues>((values) => values.organizationId),
  prefix: new Placeholder<FilterValues>((values) => values.filter.searchPrefix),
  active: new Placeholder<FilterValues>((values) => values.filter.active),
  limit: new Placeholder<FilterValues>((values) => values.limit),
  offset: new Placeholder<FilterValues>((values) => values.offset),
  knownVersion: new Placeholder<FilterValues>((values) => values.known?.version ?? null),
  knownTotal: new Placeholder<FilterValues>((values) => values.known?.total ?? null),
  walkBudget: new Placeholder<FilterValues>((values) => values.walkBudget),
};

/** The search key of each field a search compares, each served by its own index (migration 0011). */
const SEARCH_KEYS = [
  sql`first_name_search`,
  sql`last_name_search`,
  sql`lower(email)`,
  sql`lower(rep_number)`,
];

/**
 * A search's matches as one scan per field, each of the rows that match by this field and by no field before it,
 * so that together they hold every match once, without a step that removes duplicates. Each scan reads its search
 * index alone: the index carries the other fields' keys and the selected columns (migration 0011).
 */
function searchMatches(shape: FilterShape, columns: (field: number) => RawBuilder<unknown>) {
  const { organizationId, prefix, active } = filterPlaceholder;
  return sql.join(
    SEARCH_KEYS.map((key, index) => {
      const earlier = SEARCH_KEYS.slice(0, index).map(
        (before) => sql`and not starts_with(${before}, ${prefix})`,
      );
      return sql`select ${columns(index)} from organization_sales_rep
        where organization_id = ${organizationId} and starts_with(${key}, ${prefix}) ${sql.join(earlier, sql` `)}
        ${shape.active ? sql`and active = ${active}` : sql``}`;
    }),
    sql` union all `,
  );
}

/** The number of an organization's assignments that match a filter, as a scalar subquery. */
function countOfMatches(shape: FilterShape) {
  return shape.search
    ? sql`(select count(*)::int from (${searchMatches(shape, () => sql`1`)}) matches)`
    : sql`(select count(*)::int from organization_sales_rep where ${filterConditions(shape)})`;
}

function filterConditions(shape: FilterShape, options: { search: boolean } = { search: true }) {
  const { organizationId, active } = filterPlaceholder;
  const conditions = [sql`organization_id = ${organizationId}`];
  // starts_with on "C"-collated keys is served by the (organization_id, key) indexes of migration 0011.
  if (shape.search && options.search) conditions.push(prefixCondition());
  if (shape.active) conditions.push(sql`active = ${active}`);
  return sql.join(conditions, sql` and `);
}

/** Whether a row's first name, last name, email or rep number starts with the search prefix. */
function prefixCondition() {
  const { prefix } = filterPlaceholder;
  return sql`(${sql.join(
    SEARCH_KEYS.map((key) => sql`starts_with(${key}, ${prefix})`),
    sql` or `,
  )})`;
}

/** A total counted before, with the version it holds at and the organization's number of assignments then. */
interface KnownTotal {
  version: string;
  total: number;
  organizationTotal: number;
  /**
   * A search's matches by field, in SEARCH_KEYS' order, each of the rows that match by no field before it: which
   * fields' orders the matches may sit together in.
   */
  byField?: number[] | undefined;
  /** The pages (pageKey) whose bounded walk ran out at this version: they are sorted from then on. */
  walkRanOut?: Set<string>;
}

/**
 * Up to this many matches, a page of a search may be sorted from all of them, read from the search indexes; beyond
 * it, the sort's index is walked and the matches kept until the page is full.
 */
const SORTED_MATCHES_LIMIT = 20_000;

/**
 * A bounded walk reads at most the matches' number / WALK_BUDGET_DIVISOR index entries, and is tried only when,
 * with the matches spread evenly over the order, it would read at most a WALK_BUDGET_MARGIN-th of that. Measured
 * on PostgreSQL 15, `bench_org_big` (docs/performance.md): "rep2" (11,111 matches) by first name walked 184 entries
 * in 1 ms where sorting took 11 ms; by email descending the walk ran out after its 2,778 entries in 3 ms, then the
 * sort. A walk's entry costs about a sorted match (a table row read for the search keys), so a walk that runs out
 * adds about a quarter to the sort; with 3,846 matches, trying the walk gained less than its failures cost.
 */
const WALK_BUDGET_DIVISOR = 4;
const WALK_BUDGET_MARGIN = 4;

/**
 * How a filtered page is found. `walk`: the sort's index is walked and the matches kept until the page is full
 * (the planner's choice). `sort`: every match is read from the four search indexes and the top of them sorted.
 * `walkThenSort`: the sort's index is walked for at most `walkBudget` entries; if the page is not complete by then,
 * the matches are sorted, in the same statement.
 */
export type PageWay = 'walk' | 'sort' | 'walkThenSort';

/**
 * The statement of a filtered page: the ids of the page, then only those rows, with the organization's version
 * and the number of matching assignments, all in one snapshot. The total is `known` if it holds for the version
 * this snapshot sees: the version moves with every insert, delete and change of a listed column (migration
 * 0004), so the same version has the same matches. Otherwise `changed` is true and, with `countWhenChanged`, the
 * statement counts (the organization's kept count is of every assignment): a scalar subquery in the CASE's other
 * branch, run only when that branch is taken. Without it, the total is then stale and the caller asks again; the
 * statement is planned without the count's four scans, which cost PostgreSQL a quarter to a third of its planning
 * time on each request (docs/performance.md).
 *
 * The page's ids come the `way` asked (PageWay). Sorting costs the number of matches, which the caller knows; the
 * walk costs the entries it reads before the page is full: few when the matches are many and spread over the
 * order, all before them when they sit together far along it (a search of "zoe" sorted by first name ascending
 * would read every name before Z). The bounded walk's page is taken when it is full (wayToPage tries the walk only
 * for a page well within the matches); otherwise the sorted page is, and `page_walked` says which.
 *
 * Compiled once per filter shape, sort, direction, way to the page and count (compiledFilteredPage); this binds
 * the request's values.
 */
export function filteredPageStatement(
  db: Executor,
  organizationId: string,
  filter: AssignmentFilter,
  page: PageRequest,
  options: { known?: KnownTotal | undefined; way: PageWay; countWhenChanged: boolean; walkBudget?: number },
): CompiledQuery<unknown> {
  const statement = compiledFilteredPage(db, shapeOf(filter), page, options);
  const { limit, offset } = page;
  return bind<FilterValues>(statement, {
    organizationId,
    filter,
    limit,
    offset,
    known: options.known,
    walkBudget: options.walkBudget ?? 0,
  });
}

type FilteredPageRow = Partial<AssignmentListRow> & {
  total: number;
  changed: boolean;
  page_walked?: boolean | null;
};

/** The filtered page statement of each shape, sort, direction, way to the page and count, compiled once. */
const filteredPageStatements = new Map<string, CompiledQuery<FilteredPageRow>>();

function compiledFilteredPage(
  db: Executor,
  shape: FilterShape,
  page: PageRequest,
  options: { way: PageWay; countWhenChanged: boolean },
): CompiledQuery<FilteredPageRow> {
  // Without a search, the walk reads the sort index alone (it carries the active flag): always the way.
  const way: PageWay = shape.search ? options.way : 'walk';
  const { countWhenChanged } = options;
  const key = `${shape.search} ${shape.active} ${page.sortOn} ${page.sortDirection} ${way} ${countWhenChanged}`;
  let statement = filteredPageStatements.get(key);
  if (!statement) {
    const { organizationId, limit, offset, knownVersion, knownTotal, walkBudget } = filterPlaceholder;
    const keys = sql.join(keyColumns(page.sortOn));
    const keyRefs = (table: string) =>
      sql.join(SORT_KEYS[page.sortOn].map((_, index) => sql.ref(`${table}.k${index}`)));
    const topOf = (matches: RawBuilder<unknown>) => sql`select * from ${matches}
      order by ${orderByKeys(page.sortOn, page.sortDirection, 'matches')}
      limit ${limit} offset ${offset}`;
    const sortedPage = topOf(sql`(${searchMatches(shape, () => sql`id, ${keys}`)}) matches`);
    const walkedPage = topOf(
      sql`(select id, ${keys} from organization_sales_rep where ${filterConditions(shape)}) matches`,
    );
    let pageRows: RawBuilder<unknown>;
    if (way === 'sort') pageRows = sortedPage;
    else if (way === 'walk') pageRows = walkedPage;
    else {
      // The walk keeps the matches among its first walkBudget entries of the order (the search keys are read from
      // the table, so the limit is on the entries, not on the matches).
      const complete = sql`(select walk_complete from complete)`;
      pageRows = sql`
        with walked as (
          select walk.id, ${keyRefs('walk')} from (
            select id, ${keys}, ${prefixCondition()} as matched
            from organization_sales_rep where ${filterConditions(shape, { search: false })}
            order by ${orderByKeys(page.sortOn, page.sortDirection)}
            limit ${walkBudget}
          ) walk
          where walk.matched
          order by ${orderByKeys(page.sortOn, page.sortDirection, 'walk')}
          limit ${limit} offset ${offset}
        ),
        complete as (select count(*) = ${limit} as walk_complete from walked)
        select walked.*, true as walked from walked where ${complete}
        union all
        select sorted.*, false from (${sortedPage}) sorted where not ${complete}`;
    }
    statement = sql<FilteredPageRow>`
      select c.version is distinct from ${knownVersion}::bigint as changed,
        ${
          countWhenChanged
            ? sql`case when c.version = ${knownVersion}::bigint then ${knownTotal}::int
                else ${countOfMatches(shape)} end`
            : sql`${knownTotal}::int`
        } as total,
        a.organization_id, a.id, a.sales_rep_id, a.first_name, a.last_name, a.email, a.phone_number, a.rep_number,
        a.active ${way === 'walkThenSort' ? sql`, page.walked as page_walked` : sql``}
      from organization_assignment_count c
      left join lateral (${pageRows}) page on true
      left join organization_sales_rep a on a.id = page.id
      where c.organization_id = ${organizationId}
      order by ${orderByKeys(page.sortOn, page.sortDirection, 'page')}`.compile(db);
    filteredPageStatements.set(key, statement);
  }
  return statement;
}

/** The index in SEARCH_KEYS of each sort field a search compares. */
const SEARCHED_FIELD: Partial<Record<SortField, number>> = {
  FirstName: 0,
  LastName: 1,
  Email: 2,
  RepNumber: 3,
};

/** What a bounded walk that ran out is remembered by: the page's sort, direction and position. */
function pageKey(page: PageRequest): string {
  return `${page.sortOn} ${page.sortDirection} ${page.offset} ${page.limit}`;
}

/**
 * How a filtered page is found (PageWay), from its count. Without a search, the walk: the sort indexes carry the
 * active flag, so it reads index entries only. With more matches than SORTED_MATCHES_LIMIT, the walk: they are
 * dense in any order. Otherwise sorted, unless a bounded walk is worth trying first: the sort is on a field that
 * no match comes by (its order does not gather them), the walk has not run out on this page at this version, and
 * with the matches spread evenly it would read (offset + page size) × the organization's assignments / the matches,
 * at most a WALK_BUDGET_MARGIN-th of its budget. Spread evenly is not a given: fields go together (the bench's email
 * and rep number are made from the same number, and half its first names have no rep without a phone), which is
 * why the walk is bounded and remembered when it runs out.
 */
function wayToPage(
  filter: AssignmentFilter,
  page: PageRequest,
  known: KnownTotal,
): { way: PageWay; walkBudget?: number } {
  if (filter.searchPrefix === undefined || known.total > SORTED_MATCHES_LIMIT) return { way: 'walk' };
  const field = SEARCHED_FIELD[page.sortOn];
  if (field !== undefined && (known.byField?.[field] ?? 1) > 0) return { way: 'sort' };
  if (known.walkRanOut?.has(pageKey(page))) return { way: 'sort' };
  const walkBudget = Math.ceil(known.total / WALK_BUDGET_DIVISOR);
  const walked = ((page.offset + page.limit) * known.organizationTotal) / Math.max(known.total, 1);
  return walked * WALK_BUDGET_MARGIN <= walkBudget ? { way: 'walkThenSort', walkBudget } : { way: 'sort' };
}

/** The count statement of each filter shape, compiled once. */
const countStatements = new Map<string, CompiledQuery<CountRow>>();

type CountRow = Omit<KnownTotal, 'byField'> & { by_field: number[] | null };

/**
 * The number of an organization's assignments that match a filter, with the version it was counted at; a search's
 * by field too (the same four scans, each counted).
 */
async function countMatches(
  db: Executor,
  organizationId: string,
  filter: AssignmentFilter,
): Promise<KnownTotal | undefined> {
  const shape = shapeOf(filter);
  const key = `${shape.search} ${shape.active}`;
  let statement = countStatements.get(key);
  if (!statement) {
    const counted = shape.search
      ? sql`m.total, m.by_field from (
          select count(*)::int as total,
            array[${sql.join(SEARCH_KEYS.map((_, index) => sql`count(*) filter (where field = ${sql.lit(index)})::int`))}]
              as by_field
          from (${searchMatches(shape, (index) => sql`${sql.lit(index)} as field`)}) matches
        ) m, organization_assignment_count c`
      : sql`${countOfMatches(shape)} as total, null::int[] as by_field from organization_assignment_count c`;
    statement = sql<CountRow>`
      select c.version::text as version, c.assignment_count as "organizationTotal", ${counted}
      where c.organization_id = ${filterPlaceholder.organizationId}`.compile(db);
    countStatements.set(key, statement);
  }
  const { rows } = await db.executeQuery<CountRow>(bind<FilterValues>(statement, { organizationId, filter }));
  const row = rows[0];
  if (!row) return undefined;
  const { by_field, ...known } = row;
  return { ...known, byField: by_field ?? undefined };
}

/** Counts in progress per database and filter: requests for a count not kept yet wait for the one running. */
const countsInFlight = new WeakMap<object, Map<string, Promise<KnownTotal | undefined>>>();

/**
 * The count of a filter, shared by the requests that ask for it at once (ten searches of a new broad prefix count
 * once, not ten times). Sharing never makes a total wrong: each page statement checks the count's version in its
 * own snapshot and counts again when it moved.
 */
function sharedCount(
  db: Executor,
  organizationId: string,
  filter: AssignmentFilter,
  cacheKey: string,
): Promise<KnownTotal | undefined> {
  let inFlight = countsInFlight.get(db);
  if (!inFlight) {
    inFlight = new Map();
    countsInFlight.set(db, inFlight);
  }
  const running = inFlight.get(cacheKey);
  if (running) return running;
  const started = countMatches(db, organizationId, filter).finally(() => inFlight.delete(cacheKey));
  inFlight.set(cacheKey, started);
  return started;
}

/**
 * One page of an organization's assignments that match a filter, with the exact number that match. The count
 * reads the organization's own index entries and rows only (the search indexes of migration 0011, the active
 * index), so its cost follows the organization's matches and never another organization's rows; it is kept per
 * filter and version, so that a search repeated while the organization does not change (the short, broad
 * prefixes typed first) is counted once. The count also tells how to find the page (filteredPageStatement).
 * Deep pages skip rows with OFFSET, within the organization's matches.
 */
export async function listFilteredAssignmentsPage(
  db: Executor,
  organizationId: string,
  filter: AssignmentFilter,
  page: PageRequest,
): Promise<AssignmentPage> {
  const counts = filteredCounts(db);
  const cacheKey = [organizationId, filter.searchPrefix ?? '', String(filter.active ?? '')].join('\u0000');
  const kept = counts.recall(cacheKey);
  if (kept) {
    const result = await selectFilteredPage(db, organizationId, filter, page, kept, false);
    if (!result.changed) return result;
    // Writes moved the version since the count: count afresh.
    counts.forget(cacheKey);
  }
  const known = await sharedCount(db, organizationId, filter, cacheKey);
  // No count row: the organization never had a rep.
  if (!known) return { rows: [], total: 0 };
  counts.keep(cacheKey, known);
  const result = await selectFilteredPage(db, organizationId, filter, page, known, true);
  // Writes moved the version again: the statement counted, and the next request counts afresh.
  if (result.changed) counts.forget(cacheKey);
  return result;
}

/** A filtered page read with a known total (filteredPageStatement); `changed` when the total was not current. */
async function selectFilteredPage(
  db: Executor,
  organizationId: string,
  filter: AssignmentFilter,
  page: PageRequest,
  known: KnownTotal,
  countWhenChanged: boolean,
): Promise<AssignmentPage & { changed: boolean }> {
  const way = wayToPage(filter, page, known);
  const statement = filteredPageStatement(db, organizationId, filter, page, {
    known,
    countWhenChanged,
    ...way,
  });
  const { rows } = await db.executeQuery<FilteredPageRow>(statement);
  const first = rows[0];
  // No count row: the organization is gone.
  if (!first) return { rows: [], total: 0, changed: false };
  if (first.page_walked === false && !first.changed) {
    // The bounded walk ran out before the page was complete: this page is sorted while the version holds.
    known.walkRanOut ??= new Set();
    known.walkRanOut.add(pageKey(page));
  }
  return {
    // The left join's NULL row stands for an empty page; every other row is a whole assignment.
    rows: rows.filter((row) => row.id != null) as AssignmentListRow[],
    total: first.total,
    changed: first.changed,
  };
}
