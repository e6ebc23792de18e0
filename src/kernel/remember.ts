/**
 * A bounded memory of values, each kept until a time of its own. Recalling a value makes it the most recently used;
 * past `maxEntries` the least recently used one is forgotten, so a memory never grows with its callers.
 */
export interface Memory<V> {
  /** The value kept under `key`, unless its time has passed (then it is forgotten). */
  recall(key: string, now?: number): V | undefined;
  /** Keeps `value` under `key` until `until` (milliseconds since the epoch; for ever when absent). */
  keep(key: string, value: V, until?: number): void;
  forget(key: string): void;
}

export function remember<V>(maxEntries: number): Memory<V> {
  // A Map iterates in insertion order: re-inserting on every recall keeps the least recently used first.
  const entries = new Map<string, { value: V; until: number }>();
  return {
    recall(key, now = Date.now()) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      entries.delete(key);
      if (entry.until <= now) return undefined;
      entries.set(key, entry);
      return entry.value;
    },
    keep(key, value, until = Number.POSITIVE_INFINITY) {
      entries.delete(key);
      entries.set(key, { value, until });
      for (const oldest of entries.keys()) {
        if (entries.size <= maxEntries) break;
        entries.delete(oldest);
      }
    },
    forget(key) {
      entries.delete(key);
    },
  };
}

/**
 * One memory per owner (a database handle), made on first use, so that what was remembered of one database never
 * answers for another in the same process.
 */
export function rememberPerOwner<V>(maxEntries: number): (owner: object) => Memory<V> {
  const memories = new WeakMap<object, Memory<V>>();
  return (owner) => {
    let memory = memories.get(owner);
    if (!memory) {
      memory = remember<V>(maxEntries);
      memories.set(owner, memory);
    }
    return memory;
  };
}
