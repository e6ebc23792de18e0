/** The direction of a sorted list: what a list query asks for and what the queries and the paging engine order by. */
export type SortDirection = 'asc' | 'desc';

export const SORT_DIRECTIONS: readonly SortDirection[] = ['asc', 'desc'];
