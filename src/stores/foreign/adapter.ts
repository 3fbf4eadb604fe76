import type { StoredValue } from '../../stored-value.js';
import type { ReplaceResult, SessionStore } from '../store.js';
import { checkMethods, classNameOf, ifUnchanged, KeyedQueue, resolveHoldMs, valueOf, type ForeignRead, type ForeignStoreOptions } from './shared.js';

/** A session this adapter wrote, as a read found it. */
export type OwnEntry<R> = Extract<ForeignRead<R>, { state: 'ours' }>;

/**
 * The `SessionStore` operations of an adapter over a foreign store without compare-and-set, built
 * on four primitives the adapter supplies. Every operation on one key runs in that key's queue, so
 * each read-then-write pair is atomic within this process (see KeyedQueue and docs/stores-foreign.md).
 */
export abstract class ForeignStoreAdapter<R> implements SessionStore {
  readonly name: string;
  private readonly queue: KeyedQueue;

  /** `adapter`: the factory's name, for errors; `kind`: the default store name's prefix. */
  protected constructor(adapter: string, kind: string, store: object, options: ForeignStoreOptions) {
    checkMethods(adapter, store, ['get', 'set', 'destroy']);
    this.name = options.name ?? `${kind}:${classNameOf(store) ?? 'store'}`;
    this.queue = new KeyedQueue(resolveHoldMs(adapter, options.holdMs));
  }

  /** What the store holds under `key`; `ttlMs` is the lifetime the caller has in mind (0: none). */
  protected abstract read(key: string, ttlMs: number): Promise<ForeignRead<R>>;
  /** Stores `value` as a session that lives `ttlMs`. */
  protected abstract write(key: string, value: StoredValue, ttlMs: number): Promise<void>;
  /** Restarts the expiry of a session of ours that a read just found. */
  protected abstract refresh(key: string, found: OwnEntry<R>, ttlMs: number): Promise<void>;
  protected abstract remove(key: string): Promise<void>;

  async get(key: string, refreshTtlMs?: number): Promise<StoredValue | null> {
    if (refreshTtlMs === undefined) return valueOf(await this.read(key, 0));
    return this.queue.run(key, async () => {
      const found = await this.read(key, refreshTtlMs);
      if (found.state === 'ours') await this.refresh(key, found, refreshTtlMs);
      return valueOf(found);
    });
  }

  create(key: string, value: StoredValue, ttlMs: number): Promise<boolean> {
    return this.queue.run(key, async () => {
      // Also false for an entry we did not write: the core then picks another id, and never
      // overwrites the foreign library's own session that happens to sit under this name.
      if ((await this.read(key, ttlMs)).state !== 'missing') return false;
      await this.write(key, value, ttlMs);
      return true;
    });
  }

  replace(key: string, expected: StoredValue, value: StoredValue, ttlMs: number): Promise<ReplaceResult> {
    return this.queue.run(key, async () => ifUnchanged(await this.read(key, ttlMs), expected, () => this.write(key, value, ttlMs)));
  }

  /** Compare-and-delete: atomic in this process (queued), a get then a destroy between processes. */
  deleteIf(key: string, expected: StoredValue): Promise<ReplaceResult> {
    return this.queue.run(key, async () => ifUnchanged(await this.read(key, 0), expected, () => this.remove(key)));
  }

  delete(key: string): Promise<void> {
    // Queued too, so a replace already under way in this process cannot land after the delete.
    return this.queue.run(key, () => this.remove(key));
  }

  touch(key: string, ttlMs: number): Promise<void> {
    return this.queue.run(key, async () => {
      const found = await this.read(key, ttlMs);
      if (found.state === 'ours') await this.refresh(key, found, ttlMs);
    });
  }
}
