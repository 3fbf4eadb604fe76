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

  /**
   * Remembers the loaded user; in rolling mode without `maxAge`, reads keep the index entry alive
   * too, for as long as the read keeps the session: its own lifetime ("remember me"), not the default.
   */
  async loaded(record: SessionRecord, key: string): Promise<void> {
    const user = this.safeUserOf(this.userView(record));
    if (user === undefined) return;
    this.loadedUsers.set(record, user);
    if (this.options.rolling && this.options.maxAge === undefined) {
      await this.call('index add', this.index.add(userIndexKey(this.options.keyPrefix, user), key, record.lifetime), record.budget);
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
   * With `maxAge`, the first entry lives as long as the session can (what `maxAge` leaves it, however
   * often writes or rolling reads renew its idle TTL meanwhile), so an unchanged user costs no round
   * trip; without it, each write renews the entry's TTL along with the session's.
   */
  async written(record: SessionRecord, user: UserId | undefined, created: boolean, ttlMs: number): Promise<void> {
    const before = created ? undefined : this.loadedUsers.get(record);
    const same = before !== undefined && user !== undefined && String(before) === String(user);
    if (before !== undefined && !same) await this.removed(record, [record.id]);
    const untilMaxAge = this.untilMaxAge(record);
    if (user !== undefined && (!same || untilMaxAge === undefined)) {
      const entryTtl = Math.max(ttlMs, untilMaxAge ?? 0);
      await this.call('index add', this.index.add(userIndexKey(this.options.keyPrefix, user), this.options.keyPrefix + record.id, entryTtl), record.budget);
    }
  }

  /** With `maxAge`: ms until the session's absolute timeout (from its `_created`), or undefined when unknown. */
  private untilMaxAge(record: SessionRecord): number | undefined {
    const { maxAge } = this.options;
    if (maxAge === undefined) return undefined;
    let created: unknown;
    try {
      created = record.meta('_created');
    } catch {
      return undefined; // a `_created` that does not decode: the lifecycle refuses such a session anyway
    }
    return typeof created === 'number' && Number.isFinite(created) ? Math.max(1, Math.ceil(created * 1000 + maxAge - Date.now())) : undefined;
  }

  /**
   * `session.touch()` restarted the session's TTL without a write: its index entry follows, or it
   * could expire first. With `maxAge` the entry already lasts until the absolute timeout.
   * (For the lifecycle's touch path; see SessionIndexHooks.)
   */
  async touched(record: SessionRecord, key: string, ttlMs: number): Promise<void> {
    const user = this.loadedUsers.get(record);
    if (user === undefined || this.untilMaxAge(record) !== undefined) return;
    await this.call('index add', this.index.add(userIndexKey(this.options.keyPrefix, user), key, ttlMs), record.budget);
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
