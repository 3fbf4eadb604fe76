import { DEFAULTS } from '../defaults.js';
import { onlyKnownKeys, positiveInt } from '../validate.js';
import { sameStoredValue, type StoredValue } from '../stored-value.js';
import type { ReplaceResult, SessionStore, UserSessionIndex } from './store.js';

export interface MemoryStoreOptions {
  /** Most sessions kept; past it the least recently used goes first. Default 100 000. */
  maxEntries?: number;
  /** Clock in ms, for tests. Default `Date.now`. */
  now?: () => number;
}

interface Entry {
  value: StoredValue;
  expiresAt: number;
}

let warnedAboutProduction = false;

/** Share of `maxEntries` kept for sessions that came back at least once (the protected segment). */
const PROTECTED_SHARE = 0.8;

/**
 * The embedded default: a bounded map in this process. Sessions vanish on restart and are not
 * shared between processes, so production deployments want Redis, memcached or the filesystem.
 *
 * Eviction is a segmented LRU (SLRU), so that a flood of one-shot sessions (any route that writes
 * for anonymous visitors, a bot) cannot push out users who come back:
 * - a new session enters the probation segment;
 * - a second access (a read, replace or touch: the browser came back) moves it to the protected
 *   segment, which holds at most 80% of `maxEntries`; past that, its least recently used session is
 *   moved back to probation (not dropped);
 * - past `maxEntries`, eviction takes the least recently used session of probation first, and of
 *   protected only when probation is empty.
 * The bound: at most `maxEntries` sessions in all. A session that came back at least once is never
 * evicted by new sessions, however many; it can only be pushed back to probation by more than
 * 0.8 x `maxEntries` other returning sessions used after it, or expire.
 */
export class MemoryStore implements SessionStore {
  readonly name = 'memory';
  /** Every operation acts when it is called. */
  readonly ordered = true;
  readonly maxEntries: number;
  /** Entries of each segment in LRU order: a Map iterates in insertion order, oldest first. */
  private readonly probation = new Map<string, Entry>();
  private readonly protected = new Map<string, Entry>();
  private readonly protectedCapacity: number;
  /**
   * The user index, both ways: a user's session keys, and each indexed session's users. An entry
   * lives exactly as long as its session is in this store (no TTL of its own, so it cannot expire
   * before a "remember me" session it lists), and leaves with it however it goes (delete, expiry
   * noticed, eviction): the index never holds more entries than the store holds sessions.
   */
  private readonly users = new Map<string, Set<string>>();
  private readonly usersOf = new Map<string, Set<string>>();
  private readonly now: () => number;
  readonly userIndex: UserSessionIndex;

  constructor(options: MemoryStoreOptions = {}) {
    onlyKnownKeys('memory', options, ['maxEntries', 'now'], 'a memory store option');
    this.maxEntries = positiveInt('memory.maxEntries', options.maxEntries, DEFAULTS.memory.maxEntries);
    this.protectedCapacity = Math.max(1, Math.floor(this.maxEntries * PROTECTED_SHARE));
    this.now = options.now ?? Date.now;
    if (process.env.NODE_ENV === 'production' && !warnedAboutProduction) {
      warnedAboutProduction = true;
      process.emitWarning(
        'koa-qsession: the memory store keeps sessions in this process only; they are lost on restart and not shared ' +
          'between processes. Use type "redis", "memcached" or "filesystem" in production.',
        { code: 'QSESSION_MEMORY_STORE' },
      );
    }
    this.userIndex = {
      // The TTL is the session's own, which this store already keeps: the entry goes with the session.
      add: async (userKey, sessionKey) => {
        if (!this.live(sessionKey)) return; // gone already: nothing to log out
        let sessions = this.users.get(userKey);
        if (!sessions) this.users.set(userKey, (sessions = new Set()));
        sessions.add(sessionKey);
        let owners = this.usersOf.get(sessionKey);
        if (!owners) this.usersOf.set(sessionKey, (owners = new Set()));
        owners.add(userKey);
      },
      remove: async (userKey, sessionKey) => {
        this.unindex(userKey, sessionKey);
      },
      list: async (userKey) => {
        const sessions = this.users.get(userKey);
        if (!sessions) return [];
        for (const key of [...sessions]) if (!this.live(key)) this.unindex(userKey, key);
        return [...(this.users.get(userKey) ?? [])];
      },
    };
  }

  get size(): number {
    return this.probation.size + this.protected.size;
  }

  async get(key: string, refreshTtlMs?: number): Promise<StoredValue | null> {
    const entry = this.live(key);
    if (!entry) return null;
    this.accessed(key, entry);
    if (refreshTtlMs !== undefined) entry.expiresAt = this.now() + refreshTtlMs;
    return entry.value;
  }

  async create(key: string, value: StoredValue, ttlMs: number): Promise<boolean> {
    if (this.live(key)) return false;
    this.probation.set(key, { value: copy(value), expiresAt: this.now() + ttlMs });
    this.evict();
    return true;
  }

  async replace(key: string, expected: StoredValue, value: StoredValue, ttlMs: number): Promise<ReplaceResult> {
    const entry = this.live(key);
    if (!entry) return { status: 'missing' };
    if (!sameStoredValue(entry.value, expected)) return { status: 'conflict', current: entry.value };
    // A new object: a value handed out earlier (a `get` result) is never changed under its holder.
    this.accessed(key, { value: copy(value), expiresAt: this.now() + ttlMs });
    return { status: 'ok' };
  }

  /**
   * `replace`, releasing the lease of option `lock` in the same step: one map holds both keys, and
   * neither call awaits anything, so nothing runs in between.
   */
  replaceAndRelease(key: string, expected: StoredValue, value: StoredValue, ttlMs: number, leaseKey: string, token: StoredValue): Promise<ReplaceResult> {
    void this.deleteIf(leaseKey, token);
    return this.replace(key, expected, value, ttlMs);
  }

  async delete(key: string): Promise<void> {
    this.remove(key);
  }

  async deleteIf(key: string, expected: StoredValue): Promise<ReplaceResult> {
    const entry = this.live(key);
    if (!entry) return { status: 'missing' };
    if (!sameStoredValue(entry.value, expected)) return { status: 'conflict', current: entry.value };
    this.remove(key);
    return { status: 'ok' };
  }

  async touch(key: string, ttlMs: number): Promise<void> {
    const entry = this.live(key);
    if (!entry) return;
    entry.expiresAt = this.now() + ttlMs;
    this.accessed(key, entry);
  }

  private has(key: string): boolean {
    return this.probation.has(key) || this.protected.has(key);
  }

  /** The session leaves the store, and with it every user index it was in. */
  private remove(key: string): void {
    this.unlink(key);
    const owners = this.usersOf.get(key);
    if (owners) for (const userKey of owners) this.unindex(userKey, key);
  }

  /** Out of its segment only: moving between segments keeps its index entries. */
  private unlink(key: string): void {
    if (!this.probation.delete(key)) this.protected.delete(key);
  }

  private unindex(userKey: string, sessionKey: string): void {
    const sessions = this.users.get(userKey);
    if (sessions?.delete(sessionKey) && sessions.size === 0) this.users.delete(userKey);
    const owners = this.usersOf.get(sessionKey);
    if (owners?.delete(userKey) && owners.size === 0) this.usersOf.delete(sessionKey);
  }

  /** The browser came back: `key` becomes the most recently used of the protected segment. */
  private accessed(key: string, entry: Entry): void {
    this.unlink(key);
    this.protected.set(key, entry);
    while (this.protected.size > this.protectedCapacity) {
      const [oldest, demoted] = this.protected.entries().next().value as [string, Entry];
      this.protected.delete(oldest);
      this.probation.set(oldest, demoted);
    }
    this.evict();
  }

  /** Down to `maxEntries`: probation's least recently used first. */
  private evict(): void {
    while (this.size > this.maxEntries) {
      const segment = this.probation.size > 0 ? this.probation : this.protected;
      this.remove(segment.keys().next().value as string);
    }
  }

  private live(key: string): Entry | undefined {
    const entry = this.probation.get(key) ?? this.protected.get(key);
    if (entry && entry.expiresAt <= this.now()) {
      this.remove(key);
      return undefined;
    }
    return entry;
  }
}

/** Copies bytes so a caller reusing its buffer cannot change a stored session. */
function copy(value: StoredValue): StoredValue {
  return typeof value === 'string' ? value : Uint8Array.prototype.slice.call(value);
}
