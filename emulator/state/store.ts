/**
 * The emulator's state: named collections of JSON documents keyed by ARM id (or another stable
 * key). Handlers only see this interface, so the in-memory default and the JSON-file persistence
 * are interchangeable (the Azurite "injected metadata store" shape).
 */

/** A plain-JSON copy of every collection. */
export interface StoreSnapshot {
  version: 1;
  collections: Record<string, Record<string, unknown>>;
}

export interface Store {
  get<T>(collection: string, key: string): T | undefined;
  /** Stores a deep copy; later changes to `value` do not leak into the store. */
  put<T>(collection: string, key: string, value: T): void;
  /** Returns true when the key existed. */
  delete(collection: string, key: string): boolean;
  /** Entries in insertion order, optionally only those whose key starts with `keyPrefix`. */
  list<T>(collection: string, keyPrefix?: string): Array<{ key: string; value: T }>;
  /** Drops every collection. */
  clear(): void;
  snapshot(): StoreSnapshot;
  /** Replaces the whole content. */
  restore(snapshot: StoreSnapshot): void;
  /** Calls `listener` after every change (put, delete, clear, restore); returns an unsubscribe function. */
  onChange(listener: () => void): () => void;
}

export function createMemoryStore(initial?: StoreSnapshot): Store {
  let collections = new Map<string, Map<string, unknown>>();
  const listeners = new Set<() => void>();
  const changed = () => {
    for (const listener of listeners) {
      listener();
    }
  };
  const collectionOf = (name: string) => {
    let c = collections.get(name);
    if (c === undefined) {
      c = new Map();
      collections.set(name, c);
    }
    return c;
  };

  const store: Store = {
    get<T>(collection: string, key: string): T | undefined {
      const value = collections.get(collection)?.get(key);
      return value === undefined ? undefined : (clone(value) as T);
    },
    put(collection, key, value) {
      collectionOf(collection).set(key, clone(value));
      changed();
    },
    delete(collection, key) {
      const existed = collections.get(collection)?.delete(key) ?? false;
      if (existed) {
        changed();
      }
      return existed;
    },
    list<T>(collection: string, keyPrefix?: string) {
      const c = collections.get(collection);
      if (c === undefined) {
        return [];
      }
      // Filter before cloning: listing one container's versions must not copy every version.
      return [...c.entries()]
        .filter(([key]) => keyPrefix === undefined || key.startsWith(keyPrefix))
        .map(([key, value]) => ({ key, value: clone(value) as T }));
    },
    clear() {
      collections = new Map();
      changed();
    },
    snapshot() {
      const out: StoreSnapshot = { version: 1, collections: {} };
      for (const [name, c] of collections) {
        out.collections[name] = Object.fromEntries([...c.entries()].map(([k, v]) => [k, clone(v)]));
      }
      return out;
    },
    restore(snapshot) {
      if (snapshot.version !== 1 || typeof snapshot.collections !== "object") {
        throw new TypeError("Unsupported store snapshot: expected { version: 1, collections }.");
      }
      collections = new Map();
      for (const [name, entries] of Object.entries(snapshot.collections)) {
        collections.set(name, new Map(Object.entries(entries).map(([k, v]) => [k, clone(v)])));
      }
      changed();
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  if (initial !== undefined) {
    store.restore(initial);
  }
  return store;
}

function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}
