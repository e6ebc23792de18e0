// The filtered list's engine (search, active): a page of the matching assignments with their exact number.
import type { CompiledQuery } from 'kysely';
import type { Executor } from '../../db/database.js';
import { mayCrossFields, searchMode, searchValue } from '../../kernel/search.js';
import type { KnownTotal, ListingCaches } from './caches.js';
import { SORT_FIELDS } from './fields.js';
import {
  type CountedPageShape,
  type CountRow,
  type CountShape,
  countedPageStatements,
  countStatements,
  type FilteredPageRow,
  type FilterShape,
  type FilterValues,
  filteredPageShape,
  filteredPageStatements,
} from './filtered-statements.js';
import { type AssignmentPage, listedRows, type PageRequest } from './page.js';
import { type PageWay, pageKey, wayToPage } from './way.js';

/** Which assignments a filtered list reads; the unfiltered list is listAssignmentsPage's. */
interface AssignmentFilter {
  /** A text the first name, last name, email or rep number holds, in any letter case, accents or not. */
  search?: string | undefined;
  active?: boolean | undefined;
}

function shapeOf(filter: AssignmentFilter): FilterShape {
  const active = filter.active !== undefined;
  if (filter.search === undefined) return { search: false, crossing: false, active };
  const search = searchMode(filter.search);
  return { search, crossing: search === 'trigrams' && mayCrossFields(searchValue(filter.search)), active };
}

function filterValues(organizationId: string, filter: AssignmentFilter): FilterValues {
  return {
    organizationId,
    search: filter.search === undefined ? undefined : searchValue(filter.search),
    active: filter.active,
  };
}

/**
 * The statement of a filtered page with the request's values bound (filteredPageStatements): the total is `known`
 * if it still holds, and the page's ids come the `way` asked.
 */
export function filteredPageStatement(
  db: Executor,
  organizationId: string,
  filter: AssignmentFilter,
  page: PageRequest,
  options: {
    known?: KnownTotal | undefined;
    way: PageWay;
    countWhenChanged: boolean;
    walkBudget?: number | undefined;
    walkFrom?: string | undefined;
  },
): CompiledQuery<FilteredPageRow> {
  const shape = filteredPageShape(shapeOf(filter), page, options);
  return filteredPageStatements.get(db, shape).bind({
    ...filterValues(organizationId, filter),
    limit: page.limit,
    offset: page.offset,
    knownVersion: options.known?.version ?? null,
    knownTotal: options.known?.total ?? null,
    walkBudget: shape.way === 'walkThenSort' ? (options.walkBudget ?? 0) : undefined,
    walkFrom: shape.search && shape.way !== 'sort' ? (options.walkFrom ?? null) : undefined,
  });
}

/**
 * The number of an organization's assignments that match a filter, with the version it was counted at; a search's
 * first and last match in every sort order too.
 */
async function countMatches(
  db: Executor,
  organizationId: string,
  filter: AssignmentFilter,
  shape: CountShape,
): Promise<KnownTotal | undefined> {
  const statement = countStatements.get(db, shape);
  const { rows } = await db.executeQuery(statement.bind(filterValues(organizationId, filter)));
  return rows[0] && knownTotalOf(rows[0]);
}

/** The kept total of a count's row, its ends by sort field. */
function knownTotalOf({ version, organizationTotal, total, ends }: CountRow): KnownTotal {
  const known = { version, organizationTotal, total };
  if (!ends) return known;
  const endsByField: NonNullable<KnownTotal['ends']> = {};
  SORT_FIELDS.forEach((field, position) => {
    const first = ends[2 * position];
    const last = ends[2 * position + 1];
    if (first != null && last != null) endsByField[field] = { first, last };
  });
  return { ...known, ends: endsByField };
}

/**
 * A page of a search that reads its matches' rows (not a prefix search), with its count: one statement
 * (countedPageStatements). Undefined when the organization never had a rep.
 */
async function countedPage(
  db: Executor,
  organizationId: string,
  filter: AssignmentFilter,
  shape: Omit<CountedPageShape, 'sortOn' | 'sortDirection'>,
  page: PageRequest,
): Promise<{ known: KnownTotal; page: AssignmentPage } | undefined> {
  const { rows } = await db.executeQuery(
    countedPageStatements
      .get(db, { ...shape, sortOn: page.sortOn, sortDirection: page.sortDirection })
      .bind({ ...filterValues(organizationId, filter), limit: page.limit, offset: page.offset }),
  );
  const first = rows[0];
  if (!first) return undefined;
  const known = knownTotalOf(first);
  return { known, page: { rows: listedRows(rows), total: known.total } };
}

/**
 * One page of an organization's assignments that match a filter, with the exact number that match. The count
 * reads the organization's own index entries and rows only (the trigram index of migration 0021, led by the
 * organization, or the organization's keys; the active index), so its cost follows the organization's matches and
 * never another organization's rows; it is kept per filter and version, so that a search repeated while the
 * organization does not change (the short, broad texts typed first) is counted once, and it tells how to find the
 * later pages (wayToPage). A search that reads its matches' rows takes the page that comes with its count from the
 * same reading (countedPage). Deep pages skip rows with OFFSET, within the organization's matches.
 */
export async function listFilteredAssignmentsPage(
  db: Executor,
  caches: ListingCaches,
  organizationId: string,
  filter: AssignmentFilter,
  page: PageRequest,
): Promise<AssignmentPage> {
  const searched =
    filter.search === undefined ? '' : `${searchMode(filter.search)} ${searchValue(filter.search)}`;
  const countKey = [organizationId, searched, String(filter.active ?? '')].join('\u0000');
  const kept = caches.keptCount(countKey);
  if (kept) {
    const result = await selectFilteredPage(db, organizationId, filter, page, kept, false);
    if (!result.changed) return result;
    // Writes moved the version since the count: count afresh.
    caches.forgetCount(countKey);
  }
  const shape = shapeOf(filter);
  const search = shape.search;
  let known: KnownTotal | undefined;
  if (search === 'trigrams' || search === 'keys') {
    const running = caches.countInFlight(countKey);
    if (!running) {
      // A search that reads its matches' rows is counted with this request's page, in one statement; the requests
      // that ask for the count meanwhile wait for it and read their own pages.
      const counting = countedPage(db, organizationId, filter, { ...shape, search }, page);
      caches.shareCount(
        countKey,
        counting.then((counted) => counted?.known),
      );
      const counted = await counting;
      // No count row: the organization never had a rep.
      if (!counted) return { rows: [], total: 0 };
      caches.keepCount(countKey, counted.known);
      return counted.page;
    }
    known = await running;
  } else {
    known = await caches.sharedCount(countKey, () =>
      countMatches(db, organizationId, filter, { ...shape, search }),
    );
  }
  if (!known) return { rows: [], total: 0 };
  caches.keepCount(countKey, known);
  const result = await selectFilteredPage(db, organizationId, filter, page, known, true);
  // Writes moved the version again: the statement counted, and the next request counts afresh.
  if (result.changed) caches.forgetCount(countKey);
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
  const way = wayToPage(filter.search !== undefined, page, known);
  const read = (walkFrom: string | undefined) =>
    db.executeQuery(
      filteredPageStatement(db, organizationId, filter, page, { known, countWhenChanged, ...way, walkFrom }),
    );
  let { rows } = await read(way.walkFrom);
  // The walk sought the first match of the known version's matches: at another version, a new match may sort
  // before it, so the page is read again from the start of the order.
  if (way.walkFrom !== undefined && rows[0]?.changed && countWhenChanged) ({ rows } = await read(undefined));
  const first = rows[0];
  // No count row: the organization is gone.
  if (!first) return { rows: [], total: 0, changed: false };
  if (first.page_walked === false && !first.changed) {
    // The bounded walk ran out before the page was complete: this page is sorted while the version holds.
    known.walkRanOut ??= new Set();
    known.walkRanOut.add(pageKey(page));
  }
  return { rows: listedRows(rows), total: first.total, changed: first.changed };
}
