// A bounded least-recently-used cache whose entries each expire at a time of their own.

/**
 * A cache of at most `maxEntries` values. Reading a value makes it the most recently used; past `maxEntries` the
 * least recently used one is dropped, so a cache never grows with its callers.
 */
export interface LruCache<V> {
  /** The value cached under `key`, unless it has expired (then it is dropped). */
  get(key: string, now?: number): V | undefined;
  /** Caches `value` under `key` until `expiresAt` (milliseconds since the epoch; for ever when absent). */
  set(key: string, value: V, expiresAt?: number): void;
  delete(key: string): void;
}

export function createLruCache<V>(maxEntries: number): LruCache<V> {
  // A Map iterates in insertion order: re-inserting on every read keeps the least recently used first.
  const entries = new Map<string, { value: V; expiresAt: number }>();
  return {
    get(key, now = Date.now()) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      entries.delete(key);
      if (entry.expiresAt <= now) return undefined;
      entries.set(key, entry);
      return entry.value;
    },
    set(key, value, expiresAt = Number.POSITIVE_INFINITY) {
      entries.delete(key);
      entries.set(key, { value, expiresAt });
      for (const oldest of entries.keys()) {
        if (entries.size <= maxEntries) break;
        entries.delete(oldest);
      }
    },
    delete(key) {
      entries.delete(key);
    },
  };
}

/**
 * One cache per owner (a database handle), made on first use, so that what was cached of one database never
 * answers for another in the same process.
 */
export function lruCachePerOwner<V>(maxEntries: number): (owner: object) => LruCache<V> {
  const caches = new WeakMap<object, LruCache<V>>();
  return (owner) => {
    let cache = caches.get(owner);
    if (!cache) {
      cache = createLruCache<V>(maxEntries);
      caches.set(owner, cache);
    }
    return cache;
  };
}
