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

/**
 * The embedded default: a bounded LRU map in this process. Sessions vanish on restart and are
 * not shared between processes, so production deployments want Redis, memcached or the filesystem.
 */
export class MemoryStore implements SessionStore {
  readonly name = 'memory';
  readonly maxEntries: number;
  private readonly entries = new Map<string, Entry>();
  private readonly users = new Map<string, Map<string, number>>();
  private readonly now: () => number;
  readonly userIndex: UserSessionIndex;

  constructor(options: MemoryStoreOptions = {}) {
    onlyKnownKeys('memory', options, ['maxEntries', 'now'], 'a memory store option');
    this.maxEntries = positiveInt('memory.maxEntries', options.maxEntries, DEFAULTS.memory.maxEntries);
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
      add: async (userKey, sessionKey, ttlMs) => {
        let sessions = this.users.get(userKey);
        if (!sessions) this.users.set(userKey, (sessions = new Map()));
        sessions.set(sessionKey, this.now() + ttlMs);
      },
      remove: async (userKey, sessionKey) => {
        this.users.get(userKey)?.delete(sessionKey);
      },
      list: async (userKey) => {
        const sessions = this.users.get(userKey);
        if (!sessions) return [];
        const now = this.now();
        for (const [key, expiresAt] of sessions) if (expiresAt <= now || !this.entries.has(key)) sessions.delete(key);
        if (sessions.size === 0) this.users.delete(userKey);
        return [...sessions.keys()];
      },
    };
  }

  get size(): number {
    return this.entries.size;
  }

  async get(key: string, refreshTtlMs?: number): Promise<StoredValue | null> {
    const entry = this.live(key);
    if (!entry) return null;
    // Re-inserting moves the key to the young end of the Map's order: that order is the LRU list.
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (refreshTtlMs !== undefined) entry.expiresAt = this.now() + refreshTtlMs;
    return entry.value;
  }

  async create(key: string, value: StoredValue, ttlMs: number): Promise<boolean> {
    if (this.live(key)) return false;
    this.put(key, value, ttlMs);
    return true;
  }

  async replace(key: string, expected: StoredValue, value: StoredValue, ttlMs: number): Promise<ReplaceResult> {
    const entry = this.live(key);
    if (!entry) return { status: 'missing' };
    if (!sameStoredValue(entry.value, expected)) return { status: 'conflict', current: entry.value };
    this.entries.delete(key);
    this.put(key, value, ttlMs);
    return { status: 'ok' };
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async deleteIf(key: string, expected: StoredValue): Promise<ReplaceResult> {
    const entry = this.live(key);
    if (!entry) return { status: 'missing' };
    if (!sameStoredValue(entry.value, expected)) return { status: 'conflict', current: entry.value };
    this.entries.delete(key);
    return { status: 'ok' };
  }

  async touch(key: string, ttlMs: number): Promise<void> {
    const entry = this.live(key);
    if (entry) entry.expiresAt = this.now() + ttlMs;
  }

  /** Copies bytes so a caller reusing its buffer cannot change a stored session. */
  private put(key: string, value: StoredValue, ttlMs: number): void {
    const stored = typeof value === 'string' ? value : Uint8Array.prototype.slice.call(value);
    this.entries.set(key, { value: stored, expiresAt: this.now() + ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }
}
