import type { ResolvedOptions } from '../config/options.js';
import { SessionDecodeError, SessionStoreError } from '../errors.js';
import type { Serializer } from '../serializers/serializer.js';
import type { StoredValue } from '../stored-value.js';
import type { ReplaceResult, SessionStore } from '../stores/store.js';
import { debug, debugEnabled } from './debug.js';
import type { SessionEvents } from './events.js';
import { makeIdGenerator, makeIdValidator } from './id.js';
import { entryCodecFor, type EntryCodec } from './entry-codec.js';
import { METADATA_KEYS, pastMaxAge } from './metadata.js';
import { pinMatches } from './pin-rule.js';
import { SessionRecord } from './record.js';
import { RetiredIds } from './retired-ids.js';
import { SaveQueue } from './save-queue.js';
import { SessionText } from './session-text.js';
import { idLabel } from './signing.js';
import { boundedStoreCall, newStoreBudget, type StoreBudget, type StoreCall } from './store-call.js';
import { RecordTurns } from './record-turns.js';
import { RETIRED, type SaveTicket, type Turn } from './turns.js';

/**
 * What the response must do with the session cookie: the one and only cookie decision. `set` carries
 * its expiry (undefined: a browser-session cookie), worked out once per request.
 */
export type CookieDecision =
  | { readonly kind: 'none' }
  | { readonly kind: 'set'; readonly id: string; readonly expires: Date | undefined }
  | { readonly kind: 'clear' };

/** How the request ended, as far as the session is concerned. */
export interface RequestOutcome {
  /** The response is a static file (and `staticFile` is off): no cookie, no expiry refresh. */
  readonly isStatic: boolean;
  /** The handler threw: data changes are dropped, `destroy()` still takes effect. */
  readonly failed: boolean;
  /** The cookie verified with an older signing key: a live session gets it back under the first key. */
  readonly rotated?: boolean;
}

/**
 * Keeps a per-user index in step with the sessions the lifecycle loads, writes and deletes.
 * Implemented in `users/`; the lifecycle only calls it, so the core knows nothing of users.
 */
export interface SessionIndexHooks {
  loaded(record: SessionRecord, key: string): Promise<void>;
  discarded(key: string, data: Record<string, unknown>): Promise<void>;
  /** The user this write will be indexed under; throws (before anything is stored) on a bad one. */
  userToIndex(record: SessionRecord): unknown;
  written(record: SessionRecord, user: unknown, created: boolean, ttlMs: number): Promise<void>;
  removed(record: SessionRecord, ids: readonly string[]): Promise<void>;
}

export interface LifecycleDeps {
  readonly options: ResolvedOptions;
  readonly store: SessionStore;
  readonly serializer: Serializer;
  readonly events: SessionEvents;
  /** One store call, bounded by `storeTimeout`, failing with `SessionStoreError` (default: made here). */
  readonly guard?: StoreCall;
  /** The per-user index upkeep, when `userKey` is set and the store has an index. */
  readonly users?: SessionIndexHooks;
}

/** What `open` needs to know about the request besides the cookie. */
export interface OpenContext {
  /** The normalised client address; given only when `hijackProtection` is on. */
  readonly address?: string;
  /** The raw X-Forwarded-For header, given with `address` when a Quart app pins by it (`quartPinning: 'forwarded-for'`). */
  readonly forwardedFor?: string;
}

/** A save's decision before the cookie's expiry is known. */
type Action = { readonly kind: 'none' } | { readonly kind: 'set'; readonly id: string } | { readonly kind: 'clear' };
const NONE: Action = { kind: 'none' };
const CLEAR: Action = { kind: 'clear' };

/**
 * Every per-request decision, with no HTTP in sight: `open` turns the cookie's id into a session,
 * `commit` decides what to store and which cookie to send. The middleware only moves values between
 * Koa and these two calls.
 */
export class Lifecycle {
  private readonly newId: () => string;
  private readonly isValidId: (candidate: string) => boolean;
  private readonly guard: StoreCall;
  private readonly users: SessionIndexHooks | undefined;
  private readonly codec: EntryCodec;
  private readonly text: SessionText;
  private readonly saves: SaveQueue;
  /** Ids retired here a moment ago: never re-set by a slower request that loaded them earlier. */
  private readonly recentlyRetired = new RetiredIds();
  /** Requests of one session take turns (see SessionTurns). */
  private readonly turns: RecordTurns;
  private warnedStaticDrop = false;

  constructor(private readonly deps: LifecycleDeps) {
    this.newId = makeIdGenerator(deps.options.idFormat);
    this.isValidId = makeIdValidator(deps.options.idFormat);
    this.guard = deps.guard ?? boundedStoreCall(deps.store.name, deps.options.storeTimeout);
    this.users = deps.users;
    this.codec = entryCodecFor(deps.serializer);
    deps.serializer.prepare?.();
    this.text = new SessionText(this.codec, deps.options.maxSize);
    this.turns = new RecordTurns(deps.options.turnWait);
    this.saves = new SaveQueue({
      replace: (key, expected, value, ttlMs, budget) => this.guard('replace', deps.store.replace(key, expected, value, ttlMs), budget),
      merge: (current, changes) => this.text.merge(current, changes),
      budgetMs: deps.options.storeTimeout,
      onConflict: debugEnabled
        ? (key, attempt) => debug('compare-and-set conflict on session %s: merging this request\'s changes, retry %d', idLabel(key.slice(deps.options.keyPrefix.length)), attempt)
        : undefined,
    });
  }

  /**
   * The session for a request whose cookie carried `cookieId` (undefined: no cookie). No store call
   * without a well-formed id; an unknown, expired or unreadable id gives a fresh session with a NEW id.
   */
  open(cookieId: string | undefined, context: OpenContext = {}): SessionRecord | Promise<SessionRecord> {
    if (cookieId === undefined) return this.fresh(false, context.address);
    if (!this.isValidId(cookieId)) {
      if (debugEnabled) debug('cookie refused: not a well-formed id (%d characters); no store call', cookieId.length);
      return this.fresh(true, context.address);
    }
    return this.load(cookieId, context);
  }

  /**
   * A new, unsaved session. `replacesCookie`: the client sent a cookie we will not honour.
   * `address`: the client address the session is pinned to (Quart's `_addr`).
   */
  fresh(replacesCookie: boolean, address?: string, budget?: StoreBudget): SessionRecord {
    const { options } = this.deps;
    const record = new SessionRecord({
      isNew: true, permanent: options.permanent, codec: this.codec, newId: this.newId, defaultLifetime: options.lifetime, budget, staleCookie: replacesCookie,
    });
    if (address !== undefined) record.setMeta('_addr', address);
    return record;
  }

  /**
   * Loads the session in its turn (see SessionTurns). The turn is released when the request hands its
   * save to the queue (`replace`), when it is refused here, or at the latest by `release()`.
   */
  private async load(id: string, context: OpenContext): Promise<SessionRecord> {
    const address = context.address;
    const key = this.deps.options.keyPrefix + id;
    // One budget for every store call of this request (see StoreBudget).
    const budget = newStoreBudget();
    const entered = this.turns.enter(key);
    let turn: Turn;
    if (entered instanceof Promise) {
      const waitStarted = performance.now();
      turn = await entered;
      if (turn.stalled) budget.spentMs += performance.now() - waitStarted;
    } else turn = entered;
    let record: SessionRecord;
    try {
      record = await this.loadInTurn(id, key, context, turn, budget);
    } catch (error) {
      turn.release();
      throw error;
    }
    if (record.isNew) turn.release();
    else turn.loaded();
    return record;
  }

  private async loadInTurn(id: string, key: string, context: OpenContext, turn: Turn, budget: StoreBudget): Promise<SessionRecord> {
    const { address } = context;
    const { options, store, serializer, events } = this.deps;
    // The request before this one in its turn left the value its save is writing: start from it.
    const passed = turn.handover;
    const handover = this.turns.startingPoint(passed);
    const stored = handover ? handover.stored : await this.guard('get', store.get(key, options.rolling ? options.lifetime : undefined), budget);
    // Gone. Its cookie is cleared, unless this process retired the id a moment ago: then the request
    // left the browser before the login / logout that retired it answered, and that answer's cookie
    // (perhaps a newer id) must not be cleared by this older request.
    if (stored === null) {
      if (debugEnabled) debug('cookie refused: session %s is not in the store (expired or deleted); a fresh session', idLabel(id));
      const record = this.fresh(!this.recentlyRetired.has(id), address, budget);
      // It waited behind the request that retired the id: it was in flight then, like a slower request
      // whose save finds its session gone, and it must not replace that request's cookie either.
      if (passed === RETIRED) record.supersede();
      return record;
    }
    // Split into members, nothing decoded: a value is decoded when the handler first reads it.
    let members: Array<[string, unknown]>;
    try {
      members = this.codec.split(stored);
    } catch (failure) {
      // Left alone, as Quart-Session and Flask-Session do: in a shared store it may be another app's
      // live session (Flask-Session writes msgpack or pickle), and its TTL removes it anyway. So is
      // the cookie, which that app may share: it is replaced only if this request stores a session.
      const session = idLabel(id);
      events.emit('decode-error', { session, error: new SessionDecodeError(session, serializer.name, failure) });
      return this.fresh(false, address, budget);
    }
    const record = new SessionRecord({
      id, isNew: false, permanent: options.permanent, codec: this.codec, members, loadedFrom: stored, newId: this.newId, defaultLifetime: options.lifetime, budget,
    });
    // A session stored without the metadata an option needs (written before the option was turned
    // on, or by a Python app that does not pin) adopts it now and is written once on this request.
    let adopted = false;
    if (address !== undefined) {
      const pinned = metaOf(record, '_addr');
      if (pinned === undefined) {
        record.setMeta('_addr', address);
        adopted = true;
      } else if (!pinMatches(pinned, { address, forwardedFor: context.forwardedFor }, options.pinning)) {
        // Quart-Session's rule: the session is deleted, so the victim is logged out too; a cookie
        // replayed from elsewhere must not be left usable.
        events.emit('pin-mismatch', { session: idLabel(id), expected: String(pinned), actual: address });
        await this.discard(key, record);
        return this.fresh(true, address, budget);
      }
    }
    if (options.maxAge !== undefined) {
      const created = metaOf(record, '_created');
      if (created === undefined) {
        record.setMeta('_created', nowSeconds());
        adopted = true;
      } else if (pastMaxAge(created, options.maxAge)) {
        events.emit('absolute-timeout', { session: idLabel(id), createdAt: new Date(typeof created === 'number' ? created * 1000 : NaN) });
        await this.discard(key, record);
        return this.fresh(true, address, budget);
      }
    }
    this.turns.hold(record, turn, handover);
    if (adopted) record.markDirty();
    // The GETEX above refreshed the TTL with the default lifetime; a session with its own takes it back.
    if (options.rolling && record.lifetime !== options.lifetime) await this.guard('touch', store.touch(key, this.ttlFor(record)), record.budget);
    await this.users?.loaded(record, key);
    return record;
  }

  /** The request is over (committed, or failed before it could be): the next one of its session may go. */
  release(record: SessionRecord): void {
    this.turns.release(record);
  }

  /** Deletes a session refused on load (pin mismatch, absolute timeout), index entry included. */
  private async discard(key: string, record: SessionRecord): Promise<void> {
    await this.guard('delete', this.deps.store.delete(key), record.budget);
    if (this.users) await this.users.discarded(key, dataOf(record));
  }

  /**
   * Milliseconds the session may still live: the idle `lifetime`, capped by what remains of `maxAge`.
   * Used for the store TTL on writes and for the cookie's expiry.
   */
  private ttlFor(record: SessionRecord): number {
    const { maxAge } = this.deps.options;
    const lifetime = record.lifetime;
    const created = metaOf(record, '_created');
    if (maxAge === undefined || typeof created !== 'number') return lifetime;
    return Math.max(1, Math.min(lifetime, Math.ceil(created * 1000 + maxAge - Date.now())));
  }

  /**
   * Saves what the request changed and says which cookie to send. Synchronous when there is
   * nothing to store, so untouched requests pay no extra promise.
   */
  commit(record: SessionRecord, outcome: RequestOutcome): CookieDecision | Promise<CookieDecision> {
    // Values handed to the handler are compared now, once (at most one encoding each).
    const modified = !outcome.failed && record.settle();
    if (record.retiredIds.length === 0 && !record.markedDirty && !modified && !record.touched) {
      this.turns.passRead(record);
      return this.decide(record, outcome, this.idleCookie(record, outcome));
    }
    return this.save(record, outcome, modified).then((action) => this.decide(record, outcome, action));
  }

  /**
   * The final cookie decision: key rotation re-issues the cookie of a live session that verified
   * with an older key, and a cookie that is set gets its expiry here, once.
   */
  private decide(record: SessionRecord, outcome: RequestOutcome, action: Action): CookieDecision {
    if (action.kind === 'none' && outcome.rotated && !outcome.failed && !outcome.isStatic && !record.isNew && !record.destroyed && !this.recentlyRetired.has(record.id)) {
      action = { kind: 'set', id: record.id };
      if (debugEnabled) debug('rotation: cookie of session %s re-issued under the first signing key', idLabel(record.id));
    }
    if (action.kind !== 'set') return action;
    return { kind: 'set', id: action.id, expires: record.permanent ? new Date(Date.now() + this.ttlFor(record)) : undefined };
  }

  /** The cookie for a request that stores nothing. */
  private idleCookie(record: SessionRecord, outcome: RequestOutcome): Action {
    if (outcome.isStatic || outcome.failed) return NONE;
    if (clientHoldsRetiredCookie(record)) return CLEAR;
    // A rolling re-set of an id another request just retired would overwrite that request's newer cookie.
    if (this.deps.options.rolling && !record.isNew && !this.recentlyRetired.has(record.id)) return { kind: 'set', id: record.id };
    return NONE;
  }

  private async save(record: SessionRecord, outcome: RequestOutcome, modified: boolean): Promise<Action> {
    const { options } = this.deps;
    if (outcome.failed) {
      if (record.destroyed) await this.retire(record);
      return NONE;
    }
    const wantsWrite = options.explicit ? record.markedDirty : record.markedDirty || modified;
    if (!wantsWrite) {
      await this.retire(record);
      if (record.touched && !record.isNew && !outcome.isStatic) return this.touch(record);
      return this.idleCookie(record, outcome);
    }
    if (outcome.isStatic) return this.saveOnStatic(record);

    const action = await this.write(record);
    await this.retire(record);
    return action;
  }

  /** `session.touch()` on a session with nothing to write: restart its TTL, re-send its cookie. */
  private async touch(record: SessionRecord): Promise<Action> {
    await this.guard('touch', this.deps.store.touch(this.deps.options.keyPrefix + record.id, this.ttlFor(record)), record.budget);
    return { kind: 'set', id: record.id };
  }

  /**
   * `session.reload()`: what the store holds for this session now, replacing the request's unsaved
   * changes. A session never stored (or moved to a new id) has nothing to re-read: its changes go.
   */
  async reload(record: SessionRecord): Promise<void> {
    const { options, store } = this.deps;
    if (record.isNew) return record.reloaded(null);
    const stored = await this.guard('get', store.get(options.keyPrefix + record.id), record.budget);
    if (stored === null) return record.reloaded(null);
    record.reloaded({ members: this.codec.split(stored), loadedFrom: stored });
    this.turns.reloaded(record);
  }

  /** A static-file response sends no cookie; a change only reaches a session the client already holds. */
  private async saveOnStatic(record: SessionRecord): Promise<Action> {
    if (!record.isNew) {
      await this.write(record);
      await this.retire(record);
    } else if (!this.warnedStaticDrop) {
      this.warnedStaticDrop = true;
      const message =
        'koa-qsession: a new session was changed while serving a static file; it was not saved because static ' +
        'responses send no cookie. Set `staticFile: true` or change the session in a non-static route.';
      this.deps.events.emit('warning', { message });
      process.emitWarning(message, { code: 'QSESSION_STATIC_CHANGE' });
    }
    return NONE;
  }

  private async write(record: SessionRecord): Promise<Action> {
    const { options, store } = this.deps;
    const empty = !record.hasData;
    if (empty) {
      if (!record.isNew) {
        const merged = await this.deleteIfUnchanged(record);
        if (merged !== undefined) return merged;
        await this.users?.removed(record, [record.id]);
      }
      // The client holds a cookie for this session (stored, replaced, or refused on load): clear it.
      return record.isNew && !clientHoldsRetiredCookie(record) && record.retiredIds.length === 0 ? NONE : CLEAR;
    }
    if (record.isNew) return record.superseded ? this.dropSuperseded() : this.create(record);
    const user = this.users?.userToIndex(record);
    const ttlMs = this.ttlFor(record); // once: the store's TTL and the user index entry's
    const status = await this.replace(record, ttlMs);
    // Gone: another request regenerated or destroyed it, and the browser may already hold that
    // request's newer cookie. Only a request that retires an id itself clears the cookie.
    if (status === 'missing') return NONE;
    await this.users?.written(record, user, false, ttlMs);
    return { kind: 'set', id: record.id };
  }

  /**
   * A request that was in flight with a cookie another request retired (see `supersede`): like a
   * slower request whose save finds its session gone, its change is dropped and it sends no cookie.
   */
  private dropSuperseded(): Action {
    if (debugEnabled) debug('the session this request carried was retired by the request before it (login / logout): its change is dropped, no cookie sent');
    return NONE;
  }

  private async create(record: SessionRecord): Promise<Action> {
    const { options, store } = this.deps;
    // A session begins when it is first stored; one started after destroy() is a new session.
    if (options.maxAge !== undefined && (record.destroyed || typeof metaOf(record, '_created') !== 'number')) {
      record.setMeta('_created', nowSeconds());
    }
    const user = this.users?.userToIndex(record);
    const value = this.text.assemble(record.plan().members);
    const ttlMs = this.ttlFor(record); // once: the store's TTL and the user index entry's
    // A collision of 256 random bits will not happen; the retry is there so that it cannot matter if it did.
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await this.guard('create', store.create(options.keyPrefix + record.id, value, ttlMs), record.budget)) {
        record.stored(value);
        await this.users?.written(record, user, true, ttlMs);
        return { kind: 'set', id: record.id };
      }
      record.renewId();
    }
    throw new SessionStoreError('create', 'could not find an unused session id');
  }

  /**
   * Compare-and-set against what this request loaded, through the session's save queue: saves of one
   * session from this process land one on top of the other (see SaveQueue), and against other
   * processes this request's changed and removed keys are applied, as text, on what is stored now.
   */
  private async replace(record: SessionRecord, ttlMs: number): Promise<ReplaceResult['status']> {
    const plan = record.plan();
    const value = this.text.assemble(plan.members);
    const ticket: SaveTicket = { state: 'pending' };
    const key = this.deps.options.keyPrefix + record.id;
    const saved = this.saves.replace(key, {
      expected: record.loadedFrom as StoredValue,
      value,
      changes: plan.changes,
      ttlMs,
      budget: record.budget,
      ticket,
      builtOn: this.turns.builtOn(record),
    });
    // Queued: the next request of this session starts from the value this save writes.
    this.turns.passSave(record, value, ticket);
    let outcome;
    try {
      outcome = await saved;
    } finally {
      this.turns.settled(key, ticket);
    }
    if (outcome.status === 'ok') record.stored(outcome.value);
    return outcome.status;
  }

  private async retire(record: SessionRecord): Promise<void> {
    const { options, store } = this.deps;
    const retired = record.retiredIds.splice(0);
    // Noted before the delete, so a rolling request racing it cannot re-set the id in between.
    for (const id of retired) this.recentlyRetired.add(id);
    if (retired.length > 0) this.turns.retired(record);
    for (const id of retired) await this.guard('delete', store.delete(options.keyPrefix + id), record.budget);
    await this.users?.removed(record, retired);
  }

  /**
   * Deletes an emptied session only if it still holds what this request loaded (compare-and-delete).
   * Undefined: deleted, the caller clears the cookie. On a conflict, this request's changes are
   * applied, as text, to what another request stored meanwhile; if data remains, that is written
   * instead (through the save queue) and the cookie kept. 'missing': another request retired the
   * session, so no cookie is sent. Retried against other processes until `storeTimeout`, like saves.
   */
  private async deleteIfUnchanged(record: SessionRecord): Promise<Action | undefined> {
    const { options, store } = this.deps;
    const key = options.keyPrefix + record.id;
    const { changes } = record.plan();
    let expected = record.loadedFrom as StoredValue;
    const deadline = Date.now() + options.storeTimeout;
    for (let attempt = 0; ; attempt++) {
      const result = await this.guard('delete', store.deleteIf(key, expected), record.budget);
      if (result.status === 'ok') return undefined;
      if (result.status === 'missing') return NONE;
      const merged = this.text.mergedMembers(result.current, [changes]);
      if ([...merged.keys()].some((name) => !METADATA_KEYS.has(name))) {
        // Something another request stored survives this request's removals: keep the session, with it.
        const user = this.users?.userToIndex(record);
        const ttlMs = this.ttlFor(record);
        const outcome = await this.saves.replace(key, { expected: result.current, value: this.text.assemble(merged), changes, ttlMs, budget: record.budget });
        if (outcome.status === 'missing') return NONE;
        record.stored(outcome.value);
        await this.users?.written(record, user, false, ttlMs);
        return { kind: 'set', id: record.id };
      }
      expected = result.current;
      if (attempt > 0 && Date.now() > deadline) {
        throw new SessionStoreError('delete', 'the session kept changing under other writers for longer than storeTimeout');
      }
    }
  }
}

/**
 * The client's cookie names a session that is gone (destroyed here, or refused on load). Never for a
 * superseded request: the browser's cookie is the newer one another request sent.
 */
function clientHoldsRetiredCookie(record: SessionRecord): boolean {
  return (record.destroyed || record.staleCookie) && !record.superseded;
}

/** A metadata value; one that does not decode reads as invalid (not a string, not a number). */
function metaOf(record: SessionRecord, key: string): unknown {
  try {
    return record.meta(key);
  } catch {
    return INVALID;
  }
}
const INVALID = Symbol('invalid');

/** The data of a session refused on load, for the user index (decoded: this is rare). */
function dataOf(record: SessionRecord): Record<string, unknown> {
  const data: Record<string, unknown> = Object.create(null);
  for (const key of record.keys()) {
    try {
      data[key] = record.peek(key);
    } catch {
      // undecodable: no user id there
    }
  }
  return data;
}

function nowSeconds(): number {
  // Unix seconds like Python's time.time(), to the millisecond.
  return Date.now() / 1000;
}
