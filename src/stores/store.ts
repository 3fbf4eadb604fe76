/**
 * The store interface: the handful of operations every backend implements. A new backend is one
 * file with one class implementing `SessionStore`; pass an instance as `qsession({ store })`.
 *
 * Keys arrive complete (`keyPrefix` + id, validated: at most 200 bytes of `[A-Za-z0-9_:.-]`), so a
 * store never sees client input that did not pass the id check. Values are what the serializer
 * produced: a string (tagged JSON, JSON) or bytes (v8). A store gives back exactly the bytes it was
 * given; it may return a string as bytes (UTF-8), the core compares bytes. Bytes must come back as
 * bytes (a Uint8Array / Buffer, never decoded to text): v8 values are not UTF-8 and the v8 serializer
 * refuses text.
 *
 * Every operation is given a TTL in milliseconds; stores with coarser clocks round up.
 * Errors: reject with anything; the core wraps it in `SessionStoreError` and applies `storeTimeout`.
 *
 * Rules a store may rely on (the core keeps them; the contract suite in spec/support checks them):
 * - Every key passed a validation the client cannot bypass; a store never sees raw client input.
 * - `replace`'s `expected` is the very value object this store handed out last for that key (from
 *   `get`, or as a conflict's `current`), or the value last given to `create` / `replace` for it.
 *   A store may attach per-version state to that object (the memcached store keys its CAS tokens
 *   on it in a WeakMap) and must still work, with one more round trip, when it gets an equal copy.
 * - Values are never mutated by the core after they were handed over, in either direction.
 * - `deleteIf`'s `expected` follows the same rule as `replace`'s.
 * - At most one operation per key is in flight from one request; different requests may overlap.
 */
import type { StoredValue } from '../stored-value.js';

export type { StoredValue };

export type ReplaceResult =
  | { readonly status: 'ok' }
  /** The key is gone (expired or destroyed): the caller must not recreate it. */
  | { readonly status: 'missing' }
  /** The key holds something other than `expected`: here is what it holds now. */
  | { readonly status: 'conflict'; readonly current: StoredValue };

export interface SessionStore {
  /** A short name for logs and errors: 'memory', 'redis', ... */
  readonly name: string;

  /**
   * True when the operations on one key that this process calls reach the data in the order they
   * were called (one connection, one FIFO; the memory store at once). The core may then send a
   * session's next compare-and-set before the previous one is answered: it lands right after it.
   * Optional; without it each waits for the one before (always correct, one round trip slower).
   */
  readonly ordered?: boolean;

  /**
   * The value stored under `key`, or null when there is none (or it expired).
   * With `refreshTtlMs`, also restart the key's expiry in the same round trip where the backend
   * can (rolling sessions: Redis GETEX).
   */
  get(key: string, refreshTtlMs?: number): Promise<StoredValue | null>;

  /** Store `value` only if `key` does not exist. Resolves false when it already did. */
  create(key: string, value: StoredValue, ttlMs: number): Promise<boolean>;

  /**
   * Compare-and-set: replace the value only if `key` holds exactly `expected`, atomically where the
   * backend allows. Never creates a key that does not exist.
   */
  replace(key: string, expected: StoredValue, value: StoredValue, ttlMs: number): Promise<ReplaceResult>;

  /**
   * Optional, for option `lock`: `replace`, and in the same atomic step the release of the lease
   * `leaseKey` (deleted only if it still holds `token`), whatever the compare-and-set's answer. It
   * saves the lease's own release round trip on every write that ends a burst. A store that cannot
   * reach both keys in one step (Redis Cluster: they hash to different slots) leaves it out; the core
   * then releases the lease with `deleteIf` after the write. A store that has it and is `ordered`
   * keeps that order across the two keys too (one connection): the core then sends the session's
   * read right behind the lease's `create`, in the same round trip.
   */
  replaceAndRelease?(key: string, expected: StoredValue, value: StoredValue, ttlMs: number, leaseKey: string, token: StoredValue): Promise<ReplaceResult>;

  /** Remove `key`; removing a missing key is not an error. */
  delete(key: string): Promise<void>;

  /**
   * Compare-and-delete: remove `key` only if it holds exactly `expected` (same rules for `expected`
   * as `replace`), atomically where the backend allows. 'conflict' carries what it holds now, so the
   * core can apply its removals to that and keep a key another request set meanwhile; 'missing':
   * nothing was there. The core empties sessions with this, never with a blind `delete`.
   */
  deleteIf(key: string, expected: StoredValue): Promise<ReplaceResult>;

  /** Restart the expiry of an existing key; a missing key stays missing. */
  touch(key: string, ttlMs: number): Promise<void>;

  /**
   * Optional per-user index (list / log out a user's other sessions). A store that cannot
   * enumerate (memcached) leaves it undefined and the core says so clearly.
   */
  readonly userIndex?: UserSessionIndex;

  /**
   * Resolves once the backend can be reached (opening the store's own connection now if it opens
   * lazily); rejects when it cannot. `middleware.ready()` calls it, bounded by `storeTimeout`, so an
   * application can fail fast at start-up instead of answering 503 to its first requests. A store
   * with nothing to reach (memory) leaves it undefined.
   */
  ready?(): Promise<void>;

  /** Release what the store opened itself (never a client the application passed in). */
  close?(): Promise<void>;
}

/** Maps a user id (already turned into a safe key by the core) to the session keys of that user. */
export interface UserSessionIndex {
  add(userKey: string, sessionKey: string, ttlMs: number): Promise<void>;
  remove(userKey: string, sessionKey: string): Promise<void>;
  list(userKey: string): Promise<string[]>;
}
