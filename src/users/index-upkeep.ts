import type { ResolvedOptions } from '../config/options.js';
import type { SessionIndexHooks } from '../core/lifecycle.js';
import type { SessionRecord } from '../core/record.js';
import type { StoreCall } from '../core/store-call.js';
import type { UserSessionIndex } from '../stores/store.js';
import { safeUserOf, userIndexKey, userOf, type UserId } from './user-sessions.js';

/**
 * Keeps the per-user index (option `userKey`) in step with the sessions the lifecycle loads,
 * writes and deletes. Built only when `userKey` is set and the store has an index.
 */
export class UserIndexUpkeep implements SessionIndexHooks {
  /** The user id each loaded session held, to notice a change of user. */
  private readonly loadedUsers = new WeakMap<SessionRecord, UserId>();

  constructor(
    private readonly options: ResolvedOptions & { userKey: string },
    private readonly index: UserSessionIndex,
    private readonly call: StoreCall,
  ) {}

  /** Remembers the loaded user; in rolling mode without `maxAge`, reads keep the index entry alive too. */
  async loaded(record: SessionRecord, key: string): Promise<void> {
    const user = this.safeUserOf(this.userView(record));
    if (user === undefined) return;
    this.loadedUsers.set(record, user);
    if (this.options.rolling && this.options.maxAge === undefined) {
      await this.call('index add', this.index.add(userIndexKey(this.options.keyPrefix, user), key, this.options.lifetime), record.budget);
    }
  }

  /** A session refused on load (pin mismatch, absolute timeout) leaves its user's index. */
  async discarded(key: string, data: Record<string, unknown>): Promise<void> {
    const user = this.safeUserOf(data);
    if (user !== undefined) await this.call('index remove', this.index.remove(userIndexKey(this.options.keyPrefix, user), key));
  }

  /** The user id this write will be indexed under; throws (before anything is stored) on a bad one. */
  userToIndex(record: SessionRecord): UserId | undefined {
    return userOf(this.userView(record), this.options.userKey);
  }

  /**
   * After a write: the session's key joins its user's index, and an id that was loaded with another
   * user leaves that user's index. `created`: the id is new (fresh, regenerated), in no index yet.
   * With `maxAge`, the first entry already lives as long as the session can, so an unchanged user
   * costs no round trip; without it, each write renews the entry's TTL along with the session's.
   */
  async written(record: SessionRecord, user: UserId | undefined, created: boolean, ttlMs: number): Promise<void> {
    const before = created ? undefined : this.loadedUsers.get(record);
    const same = before !== undefined && user !== undefined && String(before) === String(user);
    if (before !== undefined && !same) await this.removed(record, [record.id]);
    if (user !== undefined && (!same || this.options.maxAge === undefined)) {
      await this.call('index add', this.index.add(userIndexKey(this.options.keyPrefix, user), this.options.keyPrefix + record.id, ttlMs), record.budget);
    }
  }

  /** Session ids deleted from the store leave the index of the user the session was loaded with. */
  async removed(record: SessionRecord, ids: readonly string[]): Promise<void> {
    const user = this.loadedUsers.get(record);
    if (user === undefined || ids.length === 0) return;
    const indexKey = userIndexKey(this.options.keyPrefix, user);
    for (const id of ids) await this.call('index remove', this.index.remove(indexKey, this.options.keyPrefix + id), record.budget);
  }

  /** The user key's value alone: the rest of the session stays undecoded. */
  private userView(record: SessionRecord): Record<string, unknown> {
    return { [this.options.userKey]: record.peek(this.options.userKey) };
  }

  private safeUserOf(data: Record<string, unknown>): UserId | undefined {
    return safeUserOf(data, this.options.userKey);
  }
}
