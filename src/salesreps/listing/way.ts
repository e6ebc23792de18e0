// The filtered list's choice between walking the sort's index and sorting the matches, made from the count.
import type { KnownTotal } from './caches.js';
import type { PageRequest } from './page.js';

/**
 * How a filtered page is found. `walk`: the sort's index is walked and the matches kept until the page is full
 * (the planner's choice). `sort`: every match is read from the search indexes and the top of them sorted.
 * `walkThenSort`: the sort's index is walked for at most `walkBudget` entries; if the page is not complete by then,
 * the matches are sorted, in the same statement.
 */
export type PageWay = 'walk' | 'sort' | 'walkThenSort';

export const PAGE_WAYS: readonly PageWay[] = ['walk', 'sort', 'walkThenSort'];

/**
 * Up to this many matches, a page of a search may be sorted from all of them, read from the search indexes; beyond
 * it, the sort's index is walked and the matches kept until the page is full.
 */
const SORTED_MATCHES_LIMIT = 20_000;

/**
 * A bounded walk reads at most the matches' number / WALK_BUDGET_DIVISOR index entries, and is tried only when,
 * with the matches spread evenly over the order from its first match on, it would read at most a
 * WALK_BUDGET_MARGIN-th of that: a walk's entry costs about a sorted match, so a walk that runs out adds to the
 * sort, and the margin keeps the tries to where they pay (docs/paging.md, "The choice between walk and sort").
 */
const WALK_BUDGET_DIVISOR = 2;
const WALK_BUDGET_MARGIN = 2;

/** What a bounded walk that ran out is remembered by (KnownTotal.walkRanOut): the page's sort and position. */
export function pageKey(page: PageRequest): string {
  return `${page.sortOn} ${page.sortDirection} ${page.offset} ${page.limit}`;
}

/**
 * How a filtered page is found (PageWay), from its count. Without a search, the walk: the sort indexes carry the
 * active flag, so it reads index entries only. With more matches than SORTED_MATCHES_LIMIT, the walk: they are
 * dense in any order. Otherwise sorted, unless a bounded walk is worth trying first: the walk has not run out on
 * this page at this version, and with the matches spread evenly it would read (offset + page size) × the
 * organization's assignments / the matches, at most a WALK_BUDGET_MARGIN-th of its budget. A search's walk starts
 * at the order's first match (`walkFrom`, from the count's ends), so matches that gather in their own field's order
 * (every "Khan" under K) are found where they sit, not after the rows before them. Spread evenly is not a given:
 * fields go together (an email and a rep number made from the same number, first names held only by reps with a
 * phone), which is why the walk is bounded and remembered when it runs out.
 */
export function wayToPage(
  searching: boolean,
  page: PageRequest,
  known: KnownTotal,
): { way: PageWay; walkBudget?: number; walkFrom?: string } {
  const ends = known.ends?.[page.sortOn];
  const from = searching && ends ? { walkFrom: page.sortDirection === 'asc' ? ends.first : ends.last } : {};
  if (!searching || known.total > SORTED_MATCHES_LIMIT) return { way: 'walk', ...from };
  if (known.walkRanOut?.has(pageKey(page))) return { way: 'sort' };
  const walkBudget = Math.ceil(known.total / WALK_BUDGET_DIVISOR);
  const walked = ((page.offset + page.limit) * known.organizationTotal) / Math.max(known.total, 1);
  if (walked * WALK_BUDGET_MARGIN > walkBudget) return { way: 'sort' };
  return { way: 'walkThenSort', walkBudget, ...from };
}
