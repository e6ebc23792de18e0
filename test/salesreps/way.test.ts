import { describe, expect, it } from 'vitest';
import type { KnownTotal } from '../../src/salesreps/listing/caches.js';
import { wayToPage } from '../../src/salesreps/listing/way.js';

/** A search's count as the engine keeps it: 4,000 matches of 100,000 assignments, all "Khan" (docs/paging.md). */
const khan: KnownTotal = {
  version: '7',
  total: 4000,
  organizationTotal: 100_000,
  ends: { LastName: { first: 'Khan', last: 'Khan' }, FirstName: { first: 'Ana', last: 'Zoe' } },
};
const firstPage = { limit: 25, offset: 0 } as const;

describe('the choice between walking the sort index and sorting the matches (docs/paging.md)', () => {
  it('walks a search gathered in the sorted field from its first match ascending and its last descending', () => {
    expect(wayToPage(true, { ...firstPage, sortOn: 'LastName', sortDirection: 'asc' }, khan)).toEqual({
      way: 'walkThenSort',
      walkBudget: 2000,
      walkFrom: 'Khan',
    });
    expect(wayToPage(true, { ...firstPage, sortOn: 'FirstName', sortDirection: 'desc' }, khan)).toEqual({
      way: 'walkThenSort',
      walkBudget: 2000,
      walkFrom: 'Zoe',
    });
  });

  it('walks from the start an order whose ends the count did not give', () => {
    expect(wayToPage(true, { ...firstPage, sortOn: 'Email', sortDirection: 'asc' }, khan)).toEqual({
      way: 'walkThenSort',
      walkBudget: 2000,
    });
  });

  it('sorts the matches when even spread evenly they are too few for the walk to pay', () => {
    const few = { ...khan, total: 200 };
    expect(wayToPage(true, { ...firstPage, sortOn: 'LastName', sortDirection: 'asc' }, few)).toEqual({
      way: 'sort',
    });
  });

  it('sorts a page whose walk ran out at this version', () => {
    const ranOut = { ...khan, walkRanOut: new Set(['LastName asc 0 25']) };
    expect(wayToPage(true, { ...firstPage, sortOn: 'LastName', sortDirection: 'asc' }, ranOut)).toEqual({
      way: 'sort',
    });
  });

  it('walks without a bound a list with no search, and a search with more matches than it sorts', () => {
    const page = { ...firstPage, sortOn: 'LastName', sortDirection: 'asc' } as const;
    expect(wayToPage(false, page, { ...khan, ends: undefined })).toEqual({ way: 'walk' });
    expect(wayToPage(true, page, { ...khan, total: 50_000 })).toEqual({ way: 'walk', walkFrom: 'Khan' });
  });
});
