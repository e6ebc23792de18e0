// What the list keeps per database handle: the unfiltered engine's page boundaries, the filtered one's counts.
import { createLruCache, type LruCache } from '../../kernel/lru-cache.js';
import type { SortField } from '../schemas.js';

/** Boundary sets kept per database handle; one is 1,000 keys for 100,000 rows. */
const BOUNDARY_CACHE_ENTRIES = 1000;
/** Filtered totals kept per database handle. */
const COUNT_CACHE_ENTRIES = 10_000;

/** The keys at ascending positions 0, n, 2n, ... of one organization's order (n: the boundary interval). */
export interface PageBoundaries {
  /** The organization's assignment version they were read at, with its assignment count. */
  version: string;
  count: number;
  keys: unknown[][];
}

/** A filtered total counted before, with the version it holds at and the organization's number of assignments then. */
export interface KnownTotal {
  version: string;
  total: number;
  organizationTotal: number;
  /**
   * A search's first and last lead key (leadKey) among its matches in each sort order, ascending, as text: where a
   * walk of that order finds its first match. Absent when nothing matches.
   */
  ends?: Partial<Record<SortField, { first: string; last: string }>> | undefined;
  /** The pages whose bounded walk ran out at this version (pageKey): they are sorted from then on. */
  walkRanOut?: Set<string>;
}

interface KeptBoundaries {
  /** The version the boundaries were asked for, then the one they were read at. */
  wantedVersion: string | undefined;
  boundaries: Promise<PageBoundaries>;
}

/**
 * The caches of one database handle, so that what was seen of one database never answers for another in the same
 * process. Every entry is checked against the organization's version by the statement that uses it, so a stale
 * entry costs a retry, never a wrong page.
 */
export class ListingCaches {
  readonly #boundaries: LruCache<KeptBoundaries> = createLruCache(BOUNDARY_CACHE_ENTRIES);
  readonly #counts: LruCache<KnownTotal> = createLruCache(COUNT_CACHE_ENTRIES);
  /** Counts being read: a request for a count not kept yet waits for the one running. */
  readonly #countsInFlight = new Map<string, Promise<KnownTotal | undefined>>();

  /**
   * The kept boundaries of an order, or fresh ones (`read`) when there are none or when they were read for
   * another version than `currentVersion` (the one the database was last seen at).
   */
  boundaries(
    organizationId: string,
    sortOn: SortField,
    currentVersion: string | undefined,
    read: () => Promise<PageBoundaries>,
  ): Promise<PageBoundaries> {
    const key = `${organizationId}\u0000${sortOn}`;
    const kept = this.#boundaries.get(key);
    if (kept && (currentVersion === undefined || kept.wantedVersion === currentVersion))
      return kept.boundaries;
    const boundaries = read();
    const entry: KeptBoundaries = { wantedVersion: currentVersion, boundaries };
    this.#boundaries.set(key, entry);
    boundaries.then(
      (fresh) => {
        entry.wantedVersion = fresh.version;
      },
      () => {
        if (this.#boundaries.get(key) === entry) this.#boundaries.delete(key);
      },
    );
    return boundaries;
  }

  /** The kept total of a filter (countKey), if any. */
  keptCount(countKey: string): KnownTotal | undefined {
    return this.#counts.get(countKey);
  }

  keepCount(countKey: string, known: KnownTotal): void {
    this.#counts.set(countKey, known);
  }

  forgetCount(countKey: string): void {
    this.#counts.delete(countKey);
  }

  /**
   * The count of a filter (`count`), shared by the requests that ask for it at once: ten searches of a new broad
   * prefix count once, not ten times. Sharing never makes a total wrong: each page statement checks the count's
   * version in its own snapshot and counts again when it moved.
   */
  sharedCount(
    countKey: string,
    count: () => Promise<KnownTotal | undefined>,
  ): Promise<KnownTotal | undefined> {
    const running = this.countInFlight(countKey);
    if (running) return running;
    const started = count();
    this.shareCount(countKey, started);
    return started;
  }

  /** The count of a filter being read now, if any. */
  countInFlight(countKey: string): Promise<KnownTotal | undefined> | undefined {
    return this.#countsInFlight.get(countKey);
  }

  /** Shares a count being read (`counting`) with the requests that ask for it (sharedCount) until it is read. */
  shareCount(countKey: string, counting: Promise<KnownTotal | undefined>): void {
    const shared = counting.finally(() => {
      if (this.#countsInFlight.get(countKey) === shared) this.#countsInFlight.delete(countKey);
    });
    // Whoever started the count answers its failure; a request that waits for it gets the failure too.
    shared.catch(() => undefined);
    this.#countsInFlight.set(countKey, shared);
  }
}

const cachesOfHandles = new WeakMap<object, ListingCaches>();

/** The caches of a database handle, made on first use. */
export function listingCachesOf(db: object): ListingCaches {
  let caches = cachesOfHandles.get(db);
  if (!caches) {
    caches = new ListingCaches();
    cachesOfHandles.set(db, caches);
  }
  return caches;
}
