// The statements of the filtered list (search, active): a page with the number of matches, and the count alone.
import { type RawBuilder, sql } from 'kysely';
import { placeholder, StatementsByShape } from '../../db/compiled-statements.js';
import type { Tables } from '../../db/schema.js';
import type { SortDirection } from '../../kernel/sort-direction.js';
import type { SortField } from '../schemas.js';
import { keyColumns, keyReferences, orderByKey, SEARCHED_FIELDS } from './fields.js';
import { type AssignmentListRow, LISTED_COLUMNS } from './page.js';
import type { PageWay } from './way.js';

/** Which filters a filtered statement has: with the sort, what it is compiled for (the values are bound per run). */
export interface FilterShape {
  search: boolean;
  active: boolean;
}

/** The values of a filter's placeholders: the search key of the prefix (src/kernel/search.ts), the active flag. */
export type FilterValues = {
  organizationId: string;
  prefix?: string | undefined;
  active?: boolean | undefined;
};

const organizationId = placeholder<string>('organizationId');
const prefix = placeholder<string>('prefix');
const active = placeholder<boolean>('active');

/** Whether a row's first name, last name, email or rep number starts with the search prefix. */
function prefixCondition() {
  return sql`(${sql.join(
    SEARCHED_FIELDS.map(({ searchKey }) => sql`starts_with(${searchKey}, ${prefix})`),
    sql` or `,
  )})`;
}

function filterConditions(shape: FilterShape, options: { search: boolean } = { search: true }) {
  const conditions = [sql`organization_id = ${organizationId}`];
  // starts_with on "C"-collated keys is served by the (organization_id, key) indexes of migration 0011.
  if (shape.search && options.search) conditions.push(prefixCondition());
  if (shape.active) conditions.push(sql`active = ${active}`);
  return sql.join(conditions, sql` and `);
}

/**
 * A search's matches as one scan per searched field, each of the rows that match by this field and by no field
 * before it, so that together they hold every match once, without a step that removes duplicates. Each scan reads
 * its search index alone: the index carries the other fields' keys and the selected columns (migration 0011).
 * `columns` selects, for the field scanned at `position`, what the scan gives.
 */
function searchMatches(shape: FilterShape, columns: (position: number) => RawBuilder<unknown>) {
  return sql.join(
    SEARCHED_FIELDS.map(({ searchKey }, position) => {
      const earlier = SEARCHED_FIELDS.slice(0, position).map(
        (before) => sql`and not starts_with(${before.searchKey}, ${prefix})`,
      );
      return sql`select ${columns(position)} from organization_sales_rep
        where organization_id = ${organizationId} and starts_with(${searchKey}, ${prefix}) ${sql.join(earlier, sql` `)}
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

/** What a filtered page statement is compiled for. Without a search, the way is always the walk (filteredPageShape). */
interface FilteredPageShape extends FilterShape {
  sortOn: SortField;
  sortDirection: SortDirection;
  way: PageWay;
  /** Whether the statement counts the matches when the known total is not the current version's. */
  countWhenChanged: boolean;
}

/** The shape of a filtered page: without a search, the walk reads the sort index alone (it carries the active flag). */
export function filteredPageShape(
  filter: FilterShape,
  page: { sortOn: SortField; sortDirection: SortDirection },
  options: { way: PageWay; countWhenChanged: boolean },
): FilteredPageShape {
  return {
    search: filter.search,
    active: filter.active,
    sortOn: page.sortOn,
    sortDirection: page.sortDirection,
    way: filter.search ? options.way : 'walk',
    countWhenChanged: options.countWhenChanged,
  };
}

/** A filtered page statement's values: the total known before and its version (or null), the walk's budget. */
type FilteredPageValues = FilterValues & {
  limit: number;
  offset: number;
  knownVersion: string | null;
  knownTotal: number | null;
  walkBudget?: number | undefined;
};

export type FilteredPageRow = Partial<AssignmentListRow> & {
  total: number;
  changed: boolean;
  page_walked?: boolean | null;
};

/**
 * The statement of a filtered page: the ids of the page, then only those rows, with the organization's version
 * and the number of matching assignments, all in one snapshot. The total is the known one if it holds for the
 * version this snapshot sees: the version moves with every insert, delete and change of a listed column (migration
 * 0004), so the same version has the same matches. Otherwise `changed` is true and, with `countWhenChanged`, the
 * statement counts (the organization's kept count is of every assignment): a scalar subquery in the CASE's other
 * branch, run only when that branch is taken. Without it, the total is then stale and the caller asks again; the
 * statement is planned without the count's scans, which cost the planner on every request (docs/paging.md).
 *
 * The page's ids come the `way` asked (PageWay, wayToPage). The bounded walk's page is taken when it is full;
 * otherwise the sorted page is, and `page_walked` says which.
 */
export const filteredPageStatements = new StatementsByShape<
  Tables,
  FilteredPageShape,
  FilteredPageRow,
  FilteredPageValues
>(
  (shape) =>
    `${shape.search} ${shape.active} ${shape.sortOn} ${shape.sortDirection} ${shape.way} ${shape.countWhenChanged}`,
  (shape) => {
    const { sortOn, sortDirection, way, countWhenChanged } = shape;
    const limit = placeholder<number>('limit');
    const offset = placeholder<number>('offset');
    const knownVersion = placeholder<string | null>('knownVersion');
    const knownTotal = placeholder<number | null>('knownTotal');
    const keys = sql.join(keyColumns(sortOn));
    const topOf = (matches: RawBuilder<unknown>) => sql`select * from ${matches}
      order by ${orderByKey(sortOn, sortDirection, 'matches')}
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
          select walk.id, ${keyReferences(sortOn, 'walk')} from (
            select id, ${keys}, ${prefixCondition()} as matched
            from organization_sales_rep where ${filterConditions(shape, { search: false })}
            order by ${orderByKey(sortOn, sortDirection)}
            limit ${placeholder<number>('walkBudget')}
          ) walk
          where walk.matched
          order by ${orderByKey(sortOn, sortDirection, 'walk')}
          limit ${limit} offset ${offset}
        ),
        complete as (select count(*) = ${limit} as walk_complete from walked)
        select walked.*, true as walked from walked where ${complete}
        union all
        select sorted.*, false from (${sortedPage}) sorted where not ${complete}`;
    }
    return sql<FilteredPageRow>`
      select c.version is distinct from ${knownVersion}::bigint as changed,
        ${
          countWhenChanged
            ? sql`case when c.version = ${knownVersion}::bigint then ${knownTotal}::int
                else ${countOfMatches(shape)} end`
            : sql`${knownTotal}::int`
        } as total,
        ${LISTED_COLUMNS} ${way === 'walkThenSort' ? sql`, page.walked as page_walked` : sql``}
      from organization_assignment_count c
      left join lateral (${pageRows}) page on true
      left join organization_sales_rep a on a.id = page.id
      where c.organization_id = ${organizationId}
      order by ${orderByKey(sortOn, sortDirection, 'page')}`;
  },
);

/** A count's row: a search's matches by searched field too, in SEARCHED_FIELDS' order. */
type CountRow = {
  version: string;
  organizationTotal: number;
  total: number;
  by_field: number[] | null;
};

/**
 * The number of an organization's assignments that match a filter, with the version it was counted at and the
 * organization's number of assignments; a search's by field too (the same scans, each counted).
 */
export const countStatements = new StatementsByShape<Tables, FilterShape, CountRow, FilterValues>(
  (shape) => `${shape.search} ${shape.active}`,
  (shape) => {
    const counted = shape.search
      ? sql`m.total, m.by_field from (
          select count(*)::int as total,
            array[${sql.join(SEARCHED_FIELDS.map((_, position) => sql`count(*) filter (where field = ${sql.lit(position)})::int`))}]
              as by_field
          from (${searchMatches(shape, (position) => sql`${sql.lit(position)} as field`)}) matches
        ) m, organization_assignment_count c`
      : sql`${countOfMatches(shape)} as total, null::int[] as by_field from organization_assignment_count c`;
    return sql<CountRow>`
      select c.version::text as version, c.assignment_count as "organizationTotal", ${counted}
      where c.organization_id = ${organizationId}`;
  },
);
