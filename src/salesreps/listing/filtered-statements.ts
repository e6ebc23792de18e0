// The statements of the filtered list (search, active): a page with the number of matches, and the count alone.
import { type RawBuilder, sql } from 'kysely';
import { placeholder, StatementsByShape } from '../../db/compiled-statements.js';
import type { Tables } from '../../db/schema.js';
import type { SearchMode } from '../../kernel/search.js';
import type { SortDirection } from '../../kernel/sort-direction.js';
import type { SortField } from '../schemas.js';
import {
  FIELDS,
  keyColumns,
  keyReferences,
  leadKey,
  orderByKey,
  SEARCH_KEYS,
  SEARCHED_FIELDS,
  SORT_FIELDS,
} from './fields.js';
import { type AssignmentListRow, LISTED_COLUMN_NAMES, LISTED_COLUMNS } from './page.js';
import type { PageWay } from './way.js';

/** Which filters a filtered statement has: with the sort, what it is compiled for (the values are bound per run). */
export interface FilterShape {
  /**
   * How a search compares its text (searchMode): `prefix`, the start of a field, through the prefix indexes of
   * migration 0011; `trigrams`, anywhere in a field, narrowed by the trigram index of migration 0021; `keys`,
   * anywhere in a field, by reading the organization's keys.
   */
  search: SearchMode | false;
  /**
   * Whether a trigram search's text holds the space SEARCH_KEYS puts between fields (mayCrossFields,
   * src/kernel/search.ts): only such a text can be found in the keys across two fields, so only it is compared with
   * each field as well.
   */
  crossing: boolean;
  active: boolean;
}

/**
 * The values of a filter's placeholders: the search's key (a prefix) or LIKE pattern (src/kernel/search.ts), the
 * active flag.
 */
export type FilterValues = {
  organizationId: string;
  search?: string | undefined;
  active?: boolean | undefined;
};

const organizationId = placeholder<string>('organizationId');
const search = placeholder<string>('search');
const active = placeholder<boolean>('active');

/** Whether a field's search key matches the search: starts with its key, or is like its pattern. */
function fieldMatches(mode: SearchMode, searchKey: RawBuilder<unknown>) {
  return mode === 'prefix' ? sql`starts_with(${searchKey}, ${search})` : sql`${searchKey} like ${search}`;
}

/** Whether a row's first name, last name, email or rep number matches the search. */
function searchCondition(mode: SearchMode) {
  return sql`(${sql.join(
    SEARCHED_FIELDS.map(({ searchKey }) => fieldMatches(mode, searchKey)),
    sql` or `,
  )})`;
}

/**
 * The organization's rows that match a filter. A search by trigrams compares all the keys at once: that is what the
 * trigram index answers, within the organization; each field is compared too only when the text may span two
 * (`crossing`). `compared` leaves the keys out (`fields`: a walk of the sort's index), or the search altogether
 * (`none`).
 */
function filterConditions(shape: FilterShape, compared: 'indexed' | 'fields' | 'none' = 'indexed') {
  const byTrigrams = shape.search === 'trigrams' && compared === 'indexed';
  // In the trigram index's collation, which only that index serves (migration 0022).
  const conditions = [
    byTrigrams
      ? sql`organization_id collate "C" = ${organizationId}`
      : sql`organization_id = ${organizationId}`,
  ];
  if (shape.search && compared !== 'none') {
    if (byTrigrams) conditions.push(sql`${SEARCH_KEYS} like ${search}`);
    if (!byTrigrams || shape.crossing) conditions.push(searchCondition(shape.search));
  }
  if (shape.active) conditions.push(sql`active = ${active}`);
  return sql.join(conditions, sql` and `);
}

/**
 * A search's matches, all of them, as a subquery named `matches`: what a sort of them or their count reads.
 * `columns` is what each match gives.
 *
 * A prefix search is one scan per searched field, each of the rows that match by this field and by no field before
 * it, so that together they hold every match once, without a step that removes duplicates; each reads its prefix
 * index alone, which carries the other fields' keys and the selected columns (migration 0011). Any other search is
 * one scan, planned apart (OFFSET 0) so that the page's order does not turn it into a walk of the sort's index.
 */
function searchMatches(shape: FilterShape & { search: SearchMode }, columns: RawBuilder<unknown>) {
  if (shape.search !== 'prefix') {
    return sql`(select ${columns} from organization_sales_rep where ${filterConditions(shape)} offset 0) matches`;
  }
  return sql`(${sql.join(
    SEARCHED_FIELDS.map(({ searchKey }, position) => {
      const earlier = SEARCHED_FIELDS.slice(0, position).map(
        (before) => sql`and not ${fieldMatches('prefix', before.searchKey)}`,
      );
      return sql`select ${columns} from organization_sales_rep
        where organization_id = ${organizationId} and ${fieldMatches('prefix', searchKey)} ${sql.join(earlier, sql` `)}
        ${shape.active ? sql`and active = ${active}` : sql``}`;
    }),
    sql` union all `,
  )}) matches`;
}

/** The number of an organization's assignments that match a filter, as a scalar subquery. */
function countOfMatches(shape: FilterShape) {
  return shape.search
    ? sql`(select count(*)::int from ${searchMatches({ ...shape, search: shape.search }, sql`1`)})`
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
    crossing: filter.crossing,
    active: filter.active,
    sortOn: page.sortOn,
    sortDirection: page.sortDirection,
    way: filter.search ? options.way : 'walk',
    countWhenChanged: options.countWhenChanged,
  };
}

/**
 * A filtered page statement's values: the total known before and its version (or null), the walk's budget, and the
 * lead key of the order's first match that a search's walk starts at (null: from the start).
 */
type FilteredPageValues = FilterValues & {
  limit: number;
  offset: number;
  knownVersion: string | null;
  knownTotal: number | null;
  walkBudget?: number | undefined;
  walkFrom?: string | null | undefined;
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
    `${shape.search} ${shape.crossing} ${shape.active} ${shape.sortOn} ${shape.sortDirection} ${shape.way} ${shape.countWhenChanged}`,
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
    const mode = shape.search;
    // A search's walk starts at the first match of the order, known from the count (walkFrom; null: from the
    // start): the matches of a field gather in its own order, so a walk from the start could read most of the
    // organization before them. With the value bound at planning, `null is null or ...` folds away and the
    // comparison is a bound of the index scan.
    const lead = leadKey(sortOn);
    const walkFrom = sql`${placeholder<string | null>('walkFrom')}::${sql.raw(FIELDS[sortOn].leadType)}`;
    const fromFirstMatch = mode
      ? sql` and (${walkFrom} is null or ${lead} ${sql.raw(sortDirection === 'asc' ? '>=' : '<=')} ${walkFrom})`
      : sql``;
    let pageRows: RawBuilder<unknown>;
    if (!mode || way === 'walk') {
      pageRows = topOf(
        sql`(select id, ${keys} from organization_sales_rep where ${filterConditions(shape, 'fields')}${fromFirstMatch}) matches`,
      );
    } else if (way === 'sort') {
      pageRows = topOf(searchMatches({ ...shape, search: mode }, sql`id, ${keys}`));
    } else {
      // The walk keeps the matches among its first walkBudget entries of the order (the search keys are read from
      // the table, so the limit is on the entries, not on the matches).
      const complete = sql`(select walk_complete from complete)`;
      pageRows = sql`
        with walked as (
          select walk.id, ${keyReferences(sortOn, 'walk')} from (
            select id, ${keys}, ${searchCondition(mode)} as matched
            from organization_sales_rep where ${filterConditions(shape, 'none')}${fromFirstMatch}
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
        select sorted.*, false from (${topOf(searchMatches({ ...shape, search: mode }, sql`id, ${keys}`))}) sorted
        where not ${complete}`;
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

/**
 * A count's row: with a search, for every sort field (SORT_FIELDS' order) the first and the last lead key of the
 * matches in ascending order, as text.
 */
export type CountRow = {
  version: string;
  organizationTotal: number;
  total: number;
  ends: (string | null)[] | null;
};

/** The first and last lead key (leadKey) of each sort field among the matches (`leadOf` each field's), as text. */
function endsOfMatches(leadOf: (sortOn: SortField, position: number) => RawBuilder<unknown>) {
  return sql.join(
    SORT_FIELDS.flatMap((sortOn, position) => {
      const lead = leadOf(sortOn, position);
      return FIELDS[sortOn].leadType === 'boolean'
        ? [sql`bool_and(${lead})::text`, sql`bool_or(${lead})::text`]
        : [sql`min(${lead})`, sql`max(${lead})`];
    }),
  );
}

/**
 * What a count alone is compiled for: a prefix search, the active flag or both. A search that reads its matches'
 * rows is counted with its first page (countedPageStatements).
 */
export type CountShape = FilterShape & { search: 'prefix' | false };

/**
 * The number of an organization's assignments that match a filter, with the version it was counted at and the
 * organization's number of assignments; a search's also where its matches start and end in every sort order (what
 * a walk seeks its first match by, wayToPage).
 */
export const countStatements = new StatementsByShape<Tables, CountShape, CountRow, FilterValues>(
  (shape) => `${shape.search} ${shape.active}`,
  (shape) => {
    const mode = shape.search;
    const counted = mode
      ? sql`m.total, m.ends from (
          select count(*)::int as total, array[${endsOfMatches((_, position) => sql.ref(`lead${position}`))}] as ends
          from ${searchMatches(
            { ...shape, search: mode },
            sql.join(
              SORT_FIELDS.map((sortOn, position) => sql`${leadKey(sortOn)} as ${sql.ref(`lead${position}`)}`),
            ),
          )}
        ) m, organization_assignment_count c`
      : sql`${countOfMatches(shape)} as total, null::text[] as ends from organization_assignment_count c`;
    return sql<CountRow>`
      select c.version::text as version, c.assignment_count as "organizationTotal", ${counted}
      where c.organization_id = ${organizationId}`;
  },
);

/** What a first search's statement is compiled for: a search that reads its matches' rows, and the page's order. */
export interface CountedPageShape extends FilterShape {
  search: Exclude<SearchMode, 'prefix'>;
  sortOn: SortField;
  sortDirection: SortDirection;
}

/** A first search's row: the count's, with one assignment of the page (NULLs when nothing matches). */
export type CountedPageRow = CountRow & Partial<AssignmentListRow>;

/**
 * A page of a search not counted at the organization's version yet: its matches are read once (narrowed by the
 * trigram index), and from them come the count, their ends in every sort order (as countStatements) and the page,
 * all in one snapshot. The count reads every match anyway; sorting the page out of them costs less than reading
 * them again, which a count then a page statement would. A prefix search keeps the count of its own (its prefix
 * indexes count without reading rows, and a walk finds its page).
 */
export const countedPageStatements = new StatementsByShape<
  Tables,
  CountedPageShape,
  CountedPageRow,
  FilterValues & { limit: number; offset: number }
>(
  (shape) => `${shape.search} ${shape.crossing} ${shape.active} ${shape.sortOn} ${shape.sortDirection}`,
  (shape) => {
    const { sortOn, sortDirection } = shape;
    return sql<CountedPageRow>`
      with matches as materialized (
        select ${LISTED_COLUMN_NAMES} from organization_sales_rep where ${filterConditions(shape)}
      ),
      counted as (
        select count(*)::int as total, array[${endsOfMatches(leadKey)}] as ends from matches
      ),
      page as (
        select matches.*, ${sql.join(keyColumns(sortOn))} from matches
        order by ${orderByKey(sortOn, sortDirection)}
        limit ${placeholder<number>('limit')} offset ${placeholder<number>('offset')}
      )
      select c.version::text as version, c.assignment_count as "organizationTotal", counted.total, counted.ends,
        ${LISTED_COLUMNS}
      from organization_assignment_count c
      cross join counted
      left join page a on true
      where c.organization_id = ${organizationId}
      order by ${orderByKey(sortOn, sortDirection, 'a')}`;
  },
);
