import { SessionConflictError, SessionForeignError, SessionStoreError } from '../errors.js';
import type { StoredValue } from '../stored-value.js';
import { debug, debugEnabled } from './debug.js';
import type { CookieDecision, LifecycleParts, RequestOutcome } from './lifecycle-parts.js';
import { METADATA_KEYS, metaOf, nowSeconds } from './metadata.js';
import { REMOVED } from '../serializers/session-text.js';
import type { SessionRecord } from './record.js';
import { SaveGroup, SaveGroups } from './save-group.js';
import { Handover, type Lease } from './session-line.js';
import type { StoreBudget } from './store-call.js';
import { idLabel } from './signing.js';

/** A save's decision before the cookie's expiry is known. */
type Action = { readonly kind: 'none' } | { readonly kind: 'set'; readonly id: string } | { readonly kind: 'clear' };
const NONE: Action = { kind: 'none' };
const CLEAR: Action = { kind: 'clear' };

/** A request whose save is being stored: its changes, and the user its index entry names. */
interface Saving {
  readonly record: SessionRecord;
  readonly changes: ReadonlyMap<string, unknown>;
  readonly user: unknown;
}

/** One compare-and-set of a session: what it expects, what it stores, and what bounds it. */
interface Swap {
  readonly key: string;
  /** What the saving requests started from. */
  readonly expected: StoredValue;
  /** What they leave; undefined: no data is left, the session is deleted. */
  readonly value: StoredValue | undefined;
  readonly ttlMs: number;
  readonly budget: StoreBudget | undefined;
  /** Option `lock`'s lease, released by this write (first attempt only) where the store can. */
  readonly lease: Lease | undefined;
}

/**
 * Whether the request asks anything of the store at commit: the one answer to "will this request
 * write?" (`modified`: the settled answer, when the caller has it).
 */
export function willWrite(record: SessionRecord, modified = record.modified): boolean {
  return record.retiredIds.length > 0 || record.destroyed || record.markedDirty || record.touched || modified;
}

/**
 * The second half of a request: what to store, and which cookie to send. Every save is a
 * compare-and-set against the value the request read: when another save landed in between, this
 * request's changes are applied on top of it, unless that save changed a key this request changed
 * too, which `onConflict` decides (see SessionConflictError). So nothing acknowledged is lost, in
 * one process or many, on every store.
 */
export class SessionCommitter {
  private warnedStaticDrop = false;
  private readonly groups = new SaveGroups<Saving, Action | Error>((group) => this.sendGroup(group));

  constructor(private readonly parts: LifecycleParts) {}

  /** Synchronous when there is nothing to store nor to ask the store: no promise for most reads. */
  commit(record: SessionRecord, outcome: RequestOutcome): CookieDecision | Promise<CookieDecision> {
    // Values handed to the handler are compared now, once (at most one encoding each).
    const modified = !outcome.failed && record.settle();
    if (!willWrite(record, modified)) {
      this.leave(record, record.turn?.from);
      const action = this.idle(record, outcome);
      return action instanceof Promise ? action.then((settled) => this.decide(record, settled)) : this.decide(record, action);
    }
    return this.save(record, outcome, modified).then((action) => this.decide(record, action));
  }

  /** The request is over: its place in the session's line goes to the next writer, if it still has one. */
  leave(record: SessionRecord, left: Handover | undefined): void {
    const turn = record.turn;
    if (turn === undefined) return;
    record.turn = undefined;
    void this.parts.lines.leave(turn, left);
  }

  /** A cookie that is set gets its expiry here, once. */
  private decide(record: SessionRecord, action: Action): CookieDecision {
    if (action.kind !== 'set') return action;
    return { kind: 'set', id: action.id, expires: record.permanent ? new Date(Date.now() + this.parts.ttlFor(record)) : undefined };
  }

  /** The cookie for a request that stores nothing. */
  private idle(record: SessionRecord, outcome: RequestOutcome): Action | Promise<Action> {
    if (outcome.isStatic || outcome.failed || record.foreign !== undefined) return NONE;
    if (clientHoldsRetiredCookie(record)) return CLEAR;
    // A rolling refresh, or a cookie verified with an older signing key re-issued under the first.
    if (!record.isNew && (this.parts.options.rolling || outcome.rotated)) {
      if (outcome.rotated && debugEnabled) debug('rotation: cookie of session %s re-issued under the first signing key', idLabel(record.id));
      return this.resend(record);
    }
    return NONE;
  }

  /**
   * Re-sends the cookie of a session this request did not write, unless another request retired it
   * meanwhile (in any process): that request's cookie (a login's new id) is the one the browser must keep.
   */
  private async resend(record: SessionRecord): Promise<Action> {
    const id = record.id;
    try {
      if ((await this.parts.retired.of(this.parts.options.keyPrefix + id, record.budget)) !== undefined) return NONE;
    } catch (error) {
      // Only a refresh was at stake: the request still answers, without the cookie.
      if (error instanceof SessionStoreError) this.parts.events.emit('store-error', { error });
      return NONE;
    }
    return { kind: 'set', id };
  }

  private async save(record: SessionRecord, outcome: RequestOutcome, modified: boolean): Promise<Action> {
    const { options } = this.parts;
    if (outcome.failed) {
      // The handler failed: its data changes go; a logout still takes effect.
      if (record.destroyed) await this.retire(record);
      this.leave(record, record.turn?.from);
      return NONE;
    }
    const wantsWrite = options.explicit ? record.markedDirty : record.markedDirty || modified;
    if (record.foreign !== undefined) {
      // Another app's session: neither its entry nor the cookie is ours to replace.
      if (wantsWrite) throw new SessionForeignError(record.foreign);
      return NONE;
    }
    if (!wantsWrite) {
      if (record.retiredIds.length > 0) await this.retire(record);
      this.leave(record, record.turn?.from);
      if (record.touched && !record.isNew && !outcome.isStatic) return this.touch(record);
      return this.idle(record, outcome);
    }
    if (outcome.isStatic) return this.saveOnStatic(record);
    if (!record.isNew && record.turn === undefined) {
      // A reader that writes after all (a GET that consumed a flash message): it loaded without waiting,
      // and its save takes its turn among the session's writers; compare-and-set merges what it missed.
      const entered = this.parts.lines.enter(options.keyPrefix + record.id, record.budget, true);
      record.turn = entered instanceof Promise ? await entered : entered;
    }
    try {
      const action = await this.write(record);
      // After the new session is stored: a login whose write failed leaves the user logged in as before.
      if (record.retiredIds.length > 0) await this.retire(record);
      return action;
    } finally {
      this.leave(record, undefined);
    }
  }

  /** `session.touch()` on a session with nothing to write: restart its TTL, re-send its cookie. */
  private async touch(record: SessionRecord): Promise<Action> {
    const { guard, store, options } = this.parts;
    const key = options.keyPrefix + record.id;
    const ttlMs = this.parts.ttlFor(record);
    await guard('touch', store.touch(key, ttlMs), record.budget);
    if (this.parts.users) await this.parts.users.touched(record, key, ttlMs);
    return this.resend(record);
  }

  /** A static-file response sends no cookie; a change only reaches a session the client already holds. */
  private async saveOnStatic(record: SessionRecord): Promise<Action> {
    if (!record.isNew) {
      try {
        await this.write(record);
      } catch (error) {
        // The file is served whatever became of a change it happened to make.
        if (!(error instanceof SessionConflictError)) throw error;
      }
      await this.retire(record);
    } else if (!this.warnedStaticDrop) {
      this.warnedStaticDrop = true;
      const message =
        'koa-qsession: a new session was changed while serving a static file; it was not saved because static ' +
        'responses send no cookie. Set `staticFile: true` or change the session in a non-static route.';
      this.parts.events.emit('warning', { message });
      process.emitWarning(message, { code: 'QSESSION_STATIC_CHANGE' });
    }
    return NONE;
  }

  /** Not async itself: a stored session's save (every write of a live session) is one async layer fewer. */
  private write(record: SessionRecord): Promise<Action> {
    return record.isNew ? this.writeNew(record) : this.saveOnto(record);
  }

  private async writeNew(record: SessionRecord): Promise<Action> {
    const empty = !record.hasData;
    if (record.superseded) {
      // The cookie it came with was retired while it was on its way: its change belongs to a session that
      // ended, and a new session's cookie would replace the login's.
      if (empty) return NONE;
      throw this.conflict(record, [], 'gone');
    }
    if (!empty) return this.create(record);
    // The client holds a cookie for a session that is gone (replaced, or refused on load): clear it.
    return clientHoldsRetiredCookie(record) || record.retiredIds.length > 0 ? CLEAR : NONE;
  }

  private async create(record: SessionRecord): Promise<Action> {
    const { options, store, guard, text, users } = this.parts;
    // A session begins when it is first stored; one started after destroy() is a new session.
    if (options.maxAge !== undefined && (record.destroyed || typeof metaOf(record, '_created') !== 'number')) {
      record.setMeta('_created', nowSeconds());
    }
    const user = users?.userToIndex(record);
    const value = text.assemble(record.plan().members);
    const ttlMs = this.parts.ttlFor(record); // once: the store's TTL and the user index entry's
    // A collision of 256 random bits will not happen; the retry is there so that it cannot matter if it did.
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await guard('create', store.create(options.keyPrefix + record.id, value, ttlMs), record.budget)) {
        record.stored(value);
        if (users) await users.written(record, user, true, ttlMs);
        return { kind: 'set', id: record.id };
      }
      record.renewId();
    }
    throw new SessionStoreError('create', 'could not find an unused session id');
  }

  /**
   * Compare-and-set (or compare-and-delete, when no data is left) against the value this request
   * read. The next writer of the session in this process starts from this value at once and saves
   * after this save is answered; on a hot session, in the same store call (core/save-group.ts).
   */
  private async saveOnto(record: SessionRecord): Promise<Action> {
    const { options, store, text, users, lines } = this.parts;
    const key = options.keyPrefix + record.id;
    const turn = record.turn;
    const from = turn?.from;
    const plan = record.plan();
    const value = hasData(plan.members) ? text.assemble(plan.members) : undefined;
    const saving: Saving = { record, changes: plan.changes, user: users?.userToIndex(record) };
    const loaded = record.loadedFrom as StoredValue;
    // A hot session (a save of it in flight): this save waits for the end of the event loop's turn,
    // and the writers that finish meanwhile store theirs with it, in one compare-and-set.
    const hot = value !== undefined && from !== undefined && !from.settled && store.ordered === true;
    let lease: Lease | undefined;
    if (!hot) {
      // A call on the key that does not join the open group goes after it.
      this.groups.flush(key);
      // It started from a save still in flight: its compare-and-set must reach the store after that one.
      // A store that keeps call order (Redis: one connection) gets it at once, a pipeline; others wait.
      if (from && !from.settled && store.ordered !== true) await from.saved;
      // Before it leaves: a lease nobody waits to take over is released by the write itself.
      if (value !== undefined && turn && store.replaceAndRelease !== undefined) lease = lines.leaseForWrite(turn);
    }
    const answer = hot
      ? this.groups.add(key, loaded, saving, value)
      : this.cas({ key, expected: loaded, value, ttlMs: this.parts.ttlFor(record), budget: record.budget, lease }, [saving]).then(([only]) => only!);
    // Handed over even with nobody waiting yet: a writer that comes before this save is answered
    // starts from it, with no store read (on a hot session, a read while it holds the line would hold
    // up every writer behind it).
    const handover = value !== undefined && turn ? new Handover(value, answer, this.parts.codec.sharedRaw ? plan.members : undefined) : undefined;
    if (handover) this.leave(record, handover);
    try {
      return unwrap(await answer);
    } finally {
      if (handover) lines.settled(key, handover);
    }
  }

  /** A hot session's group of saves: one compare-and-set, each member's answer. Never rejects. */
  private async sendGroup(group: SaveGroup<Saving, Action | Error>): Promise<ReadonlyArray<Action | Error>> {
    const { members } = group;
    const last = members[members.length - 1]!.record;
    try {
      const swap = { key: group.key, expected: group.expected, value: group.value, ttlMs: this.parts.ttlFor(last), budget: members[0]!.record.budget, lease: undefined };
      return await this.cas(swap, members);
    } catch (error) {
      return members.map(() => asError(error));
    }
  }

  /**
   * Stores `swap.value` (undefined: deletes the session) by compare-and-set against `swap.expected`,
   * for the requests in `savings`: one, or a hot session's group, each having made its changes on top
   * of the one before. On a conflict, the changes of each request still standing are applied, in order, to
   * what is stored now and tried again; a request that changed a key another save changed too is
   * `onConflict`'s to decide, and only that request is refused. The store call of the first attempt
   * is made before the first await (a group's place in the store's call order). Each request's answer,
   * in order; never rejects.
   */
  private async cas(swap: Swap, savings: readonly Saving[]): Promise<Array<Action | Error>> {
    const { options, store, guard, text, users, codec } = this.parts;
    const { key, ttlMs, budget, lease } = swap;
    let { expected, value } = swap;
    const answers: Array<Action | Error> = new Array(savings.length);
    let standing = savings.map((_, index) => index);
    let before: Map<string, unknown> | undefined; // what `swap.expected` holds, split at the first conflict
    const overwritten: string[] = [];
    const deadline = Date.now() + options.storeTimeout;
    try {
      for (let attempt = 0; ; attempt++) {
        const result = await (value === undefined
          ? guard('delete', store.deleteIf(key, expected), budget)
          : guard('replace', lease && attempt === 0 ? store.replaceAndRelease!(key, expected, value, ttlMs, lease.key, lease.token) : store.replace(key, expected, value, ttlMs), budget));
        if (result.status === 'ok') {
          if (overwritten.length > 0) this.parts.events.emit('conflict', { session: idLabel(savings[0]!.record.id), keys: overwritten, resolution: 'overwritten' });
          for (const index of standing) {
            const { record, user } = savings[index]!;
            if (value === undefined) {
              if (users) await users.removed(record, [record.id]);
              answers[index] = CLEAR;
            } else {
              record.stored(value);
              if (users) await users.written(record, user, false, ttlMs);
              answers[index] = { kind: 'set', id: record.id };
            }
          }
          return answers;
        }
        // Gone: retired by another request (whose cookie the browser may hold now), or expired.
        if (result.status === 'missing') {
          for (const index of standing) answers[index] = value === undefined ? NONE : this.conflict(savings[index]!.record, [], 'gone');
          return answers;
        }
        // Split once per conflict, however many requests are standing (and merged onto from `now`).
        before ??= new Map(codec.split(swap.expected));
        const now = new Map(codec.split(result.current));
        const stillStanding: number[] = [];
        for (const index of standing) {
          const { record, changes } = savings[index]!;
          const clashing = this.clashes(before, now, changes);
          if (clashing.length > 0 && options.onConflict === 'fail') {
            answers[index] = this.conflict(record, clashing, 'changed');
            continue;
          }
          for (const name of clashing) if (!overwritten.includes(name)) overwritten.push(name);
          stillStanding.push(index);
        }
        standing = stillStanding;
        if (standing.length === 0) return answers;
        if (debugEnabled) {
          const whose = standing.length === 1 ? "this request's changes" : `the changes of ${standing.length} requests saved together`;
          debug('compare-and-set conflict on session %s: merging %s, retry %d', idLabel(savings[0]!.record.id), whose, attempt + 1);
        }
        const members = text.mergedMembers(now, standing.map((index) => savings[index]!.changes));
        value = hasData(members) ? text.assemble(members) : undefined;
        expected = result.current;
        if (attempt > 0) {
          if (Date.now() > deadline) throw new SessionStoreError('save', 'the session kept changing under other writers for longer than storeTimeout');
          await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2 ** attempt, 50)));
        }
      }
    } catch (error) {
      for (const index of standing) answers[index] ??= asError(error);
      return answers;
    }
  }

  /**
   * The keys this request changed that another save changed too since this request read the session
   * (`before`: its members as read; `now`: as stored now). Metadata is the core's, never a conflict.
   */
  private clashes(before: ReadonlyMap<string, unknown>, now: ReadonlyMap<string, unknown>, changes: ReadonlyMap<string, unknown>): string[] {
    const { codec } = this.parts;
    const clashing: string[] = [];
    for (const [name, raw] of changes) {
      if (METADATA_KEYS.has(name)) continue;
      const was = before.get(name);
      const is = now.get(name);
      // Equal values are no excuse: two increments from 1 both write 2, and one of them is lost. Only a
      // removal of a key that is gone already loses nothing (two requests consuming one flash message).
      if (!codec.same(was, is) && !(raw === REMOVED && is === undefined)) clashing.push(name);
    }
    return clashing;
  }

  private conflict(record: SessionRecord, keys: string[], reason: 'changed' | 'gone'): SessionConflictError {
    this.parts.events.emit('conflict', { session: idLabel(record.id), keys, resolution: 'failed' });
    return new SessionConflictError(keys, reason);
  }

  /** The ids the request retired (regenerate, destroy) are marked retired and deleted. */
  private async retire(record: SessionRecord): Promise<void> {
    const retired = record.retiredIds.splice(0);
    if (retired.length === 0) return;
    const how = record.destroyed ? 'destroyed' : 'regenerated';
    // A hot session's group still to be sent lands before the id is retired, as a save sent earlier
    // would (its marker's round trip nearly always lets the group go first; this makes it always).
    for (const id of retired) this.groups.flush(this.parts.options.keyPrefix + id);
    for (const id of retired) await this.parts.retired.retire(this.parts.options.keyPrefix + id, how, record.budget);
    if (this.parts.users) await this.parts.users.removed(record, retired);
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new SessionStoreError('save', String(error));
}

/** A request's answer: its cookie, or the error it fails with. */
function unwrap(answer: Action | Error): Action {
  if (answer instanceof Error) throw answer;
  return answer;
}

/** Any data member (metadata alone is not a session worth keeping). */
function hasData(members: Iterable<readonly [string, unknown]>): boolean {
  for (const [name] of members) if (!METADATA_KEYS.has(name)) return true;
  return false;
}

/**
 * The client's cookie names a session that is gone (destroyed here, or refused on load). Never for a
 * superseded request: the browser's cookie is the newer one another request sent.
 */
function clientHoldsRetiredCookie(record: SessionRecord): boolean {
  return (record.destroyed || record.staleCookie) && !record.superseded;
}
