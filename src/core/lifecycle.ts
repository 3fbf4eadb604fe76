import type { ResolvedOptions } from '../config/options.js';
import { SessionDecodeError, SessionStoreError, SessionTooLargeError } from '../errors.js';
import type { Serializer } from '../serializers/serializer.js';
import { byteLength, type StoredValue } from '../stored-value.js';
import type { ReplaceResult, SessionStore } from '../stores/store.js';
import { sameClient } from './address.js';
import { comparablePin } from './pin-rule.js';
import type { SessionEvents } from './events.js';
import { debug, debugEnabled } from './debug.js';
import { makeIdGenerator, makeIdValidator } from './id.js';
import { pastMaxAge, splitStored } from './metadata.js';
import { SessionRecord } from './record.js';
import { RetiredIds } from './retired-ids.js';
import { idLabel } from './signing.js';
import { boundedStoreCall, type StoreCall } from './store-call.js';

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
}

/** A save's decision before the cookie's expiry is known. */
type Action = { readonly kind: 'none' } | { readonly kind: 'set'; readonly id: string } | { readonly kind: 'clear' };
const NONE: Action = { kind: 'none' };
const CLEAR: Action = { kind: 'clear' };
const MAX_MERGE_ATTEMPTS = 8;

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
  private warnedStaticDrop = false;
  /** Ids retired here a moment ago: never re-set by a slower request that loaded them earlier. */
  private readonly recentlyRetired = new RetiredIds();

  constructor(private readonly deps: LifecycleDeps) {
    this.newId = makeIdGenerator(deps.options.idFormat);
    this.isValidId = makeIdValidator(deps.options.idFormat);
    this.guard = deps.guard ?? boundedStoreCall(deps.store.name, deps.options.storeTimeout);
    this.users = deps.users;
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
    return this.load(cookieId, context.address);
  }

  /**
   * A new, unsaved session. `replacesCookie`: the client sent a cookie we will not honour.
   * `address`: the client address the session is pinned to (Quart's `_addr`).
   */
  fresh(replacesCookie: boolean, address?: string): SessionRecord {
    const { options } = this.deps;
    const record = new SessionRecord({ isNew: true, permanent: options.permanent, newId: this.newId, defaultLifetime: options.lifetime });
    if (address !== undefined) record.metadata._addr = address;
    record.staleCookie = replacesCookie;
    return record;
  }

  private async load(id: string, address: string | undefined): Promise<SessionRecord> {
    const { options, store, serializer, events } = this.deps;
    const key = options.keyPrefix + id;
    const stored = await this.guard('get', store.get(key, options.rolling ? options.lifetime : undefined));
    // Gone. Its cookie is cleared, unless this process retired the id a moment ago: then the request
    // left the browser before the login / logout that retired it answered, and that answer's cookie
    // (perhaps a newer id) must not be cleared by this older request.
    if (stored === null) {
      if (debugEnabled) debug('cookie refused: session %s is not in the store (expired or deleted); a fresh session', idLabel(id));
      return this.fresh(!this.recentlyRetired.has(id), address);
    }
    let dict: Record<string, unknown>;
    try {
      dict = serializer.loads(stored);
    } catch (failure) {
      // Left alone, as Quart-Session and Flask-Session do: in a shared store it may be another app's
      // live session (Flask-Session writes msgpack or pickle), and its TTL removes it anyway. So is
      // the cookie, which that app may share: it is replaced only if this request stores a session.
      const session = idLabel(id);
      events.emit('decode-error', { session, error: new SessionDecodeError(session, serializer.name, failure) });
      return this.fresh(false, address);
    }
    const { data, metadata } = splitStored(dict);
    // A session stored without the metadata an option needs (written before the option was turned
    // on, or by a Python app that does not pin) adopts it now and is written once on this request.
    let adopted = false;
    if (address !== undefined) {
      const pinned = metadata._addr;
      // A pin written by another rule (Quart's raw X-Forwarded-For chain) is neither compared nor replaced.
      const comparable = comparablePin(pinned);
      if (pinned === undefined) {
        metadata._addr = address;
        adopted = true;
      } else if (comparable !== undefined && !sameClient(comparable, address, options.pinning)) {
        // Quart-Session's rule: the session is deleted, so the victim is logged out too; a cookie
        // replayed from elsewhere must not be left usable.
        events.emit('pin-mismatch', { session: idLabel(id), expected: comparable, actual: address });
        await this.discard(key, data);
        return this.fresh(true, address);
      }
    }
    if (options.maxAge !== undefined) {
      const created = metadata._created;
      if (created === undefined) {
        metadata._created = nowSeconds();
        adopted = true;
      } else if (pastMaxAge(created, options.maxAge)) {
        events.emit('absolute-timeout', { session: idLabel(id), createdAt: new Date(typeof created === 'number' ? created * 1000 : NaN) });
        await this.discard(key, data);
        return this.fresh(true, address);
      }
    }
    const permanent = typeof metadata._permanent === 'boolean' ? metadata._permanent : options.permanent;
    const record = new SessionRecord({ id, isNew: false, permanent, data, metadata, loadedFrom: stored, newId: this.newId, defaultLifetime: options.lifetime });
    if (adopted) record.markedDirty = true;
    // The GETEX above refreshed the TTL with the default lifetime; a session with its own takes it back.
    if (options.rolling && record.lifetime !== options.lifetime) await this.guard('touch', store.touch(key, this.ttlFor(record)));
    await this.users?.loaded(record, key);
    return record;
  }

  /** Deletes a session refused on load (pin mismatch, absolute timeout), index entry included. */
  private async discard(key: string, data: Record<string, unknown>): Promise<void> {
    await this.guard('delete', this.deps.store.delete(key));
    await this.users?.discarded(key, data);
  }

  /**
   * Milliseconds the session may still live: the idle `lifetime`, capped by what remains of `maxAge`.
   * Used for the store TTL on writes and for the cookie's expiry.
   */
  private ttlFor(record: SessionRecord): number {
    const { maxAge } = this.deps.options;
    const lifetime = record.lifetime;
    const created = record.metadata._created;
    if (maxAge === undefined || typeof created !== 'number') return lifetime;
    return Math.max(1, Math.min(lifetime, Math.ceil(created * 1000 + maxAge - Date.now())));
  }

  /**
   * Saves what the request changed and says which cookie to send. Synchronous when there is
   * nothing to store, so untouched requests pay no extra promise.
   */
  commit(record: SessionRecord, outcome: RequestOutcome): CookieDecision | Promise<CookieDecision> {
    // `modified` compares snapshots of the objects the handler touched: work it out once.
    const modified = record.modified;
    if (record.retiredIds.length === 0 && !record.markedDirty && !modified && !record.touched) return this.decide(record, outcome, this.idleCookie(record, outcome));
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
    await this.guard('touch', this.deps.store.touch(this.deps.options.keyPrefix + record.id, this.ttlFor(record)));
    return { kind: 'set', id: record.id };
  }

  /**
   * `session.reload()`: what the store holds for this session now, replacing the request's unsaved
   * changes. A session never stored (or moved to a new id) has nothing to re-read: its changes go.
   */
  async reload(record: SessionRecord): Promise<void> {
    const { options, store, serializer } = this.deps;
    if (record.isNew) return record.reloaded(null);
    const stored = await this.guard('get', store.get(options.keyPrefix + record.id));
    if (stored === null) return record.reloaded(null);
    const { data, metadata } = splitStored(serializer.loads(stored));
    const permanent = typeof metadata._permanent === 'boolean' ? metadata._permanent : options.permanent;
    record.reloaded({ data, metadata, loadedFrom: stored, permanent });
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
    const empty = Object.keys(record.data).length === 0;
    if (empty) {
      if (!record.isNew) {
        const merged = await this.deleteIfUnchanged(record);
        if (merged !== undefined) return merged;
        await this.users?.removed(record, [record.id]);
      }
      // The client holds a cookie for this session (stored, replaced, or refused on load): clear it.
      return record.isNew && !clientHoldsRetiredCookie(record) && record.retiredIds.length === 0 ? NONE : CLEAR;
    }
    if (record.isNew) return this.create(record);
    const user = this.users?.userToIndex(record);
    const status = await this.replace(record);
    // Gone: another request regenerated or destroyed it, and the browser may already hold that
    // request's newer cookie. Only a request that retires an id itself clears the cookie.
    if (status === 'missing') return NONE;
    await this.users?.written(record, user, false, this.ttlFor(record));
    return { kind: 'set', id: record.id };
  }

  private async create(record: SessionRecord): Promise<Action> {
    const { options, store } = this.deps;
    // A session begins when it is first stored; one started after destroy() is a new session.
    if (options.maxAge !== undefined && (record.destroyed || typeof record.metadata._created !== 'number')) {
      record.metadata._created = nowSeconds();
    }
    const user = this.users?.userToIndex(record);
    const value = this.dump(this.dictOf(record));
    // A collision of 256 random bits will not happen; the retry is there so that it cannot matter if it did.
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await this.guard('create', store.create(options.keyPrefix + record.id, value, this.ttlFor(record)))) {
        record.isNew = false;
        record.loadedFrom = value;
        await this.users?.written(record, user, true, this.ttlFor(record));
        return { kind: 'set', id: record.id };
      }
      record.id = this.newId();
    }
    throw new SessionStoreError('create', 'could not find an unused session id');
  }

  /**
   * Compare-and-set against what this request loaded. When another request saved in between, this
   * request's changed and deleted keys are applied on top of what that one stored, and tried again.
   */
  private async replace(record: SessionRecord): Promise<ReplaceResult['status']> {
    const { options, store, serializer } = this.deps;
    const key = options.keyPrefix + record.id;
    const changed = record.changed();
    let expected = record.loadedFrom as StoredValue;
    const own = this.dictOf(record);
    let value = this.dump(own);
    for (let attempt = 0; attempt < MAX_MERGE_ATTEMPTS; attempt++) {
      const result = await this.guard('replace', store.replace(key, expected, value, this.ttlFor(record)));
      if (result.status !== 'conflict') return result.status;
      if (debugEnabled) debug('compare-and-set conflict on session %s: merging this request\'s changes, retry %d', idLabel(record.id), attempt + 1);
      // Null-prototype copy: on a plain object, `current['__proto__'] = v` would set its prototype and lose the key.
      const current = nullPrototype(serializer.loads(result.current));
      for (const name of changed) current[name] = record.data[name];
      for (const name of record.removedKeys) delete current[name];
      // `session.permanent` / `session.cookie.maxAge` set in this request win like data keys do.
      for (const name of record.changedMetadata) if (name in own) current[name] = own[name];
      expected = result.current;
      value = this.dump(current);
    }
    throw new SessionStoreError('replace', `gave up after ${MAX_MERGE_ATTEMPTS} concurrent updates of one session`);
  }

  private async retire(record: SessionRecord): Promise<void> {
    const { options, store } = this.deps;
    const retired = record.retiredIds.splice(0);
    // Noted before the delete, so a rolling request racing it cannot re-set the id in between.
    for (const id of retired) this.recentlyRetired.add(id);
    for (const id of retired) await this.guard('delete', store.delete(options.keyPrefix + id));
    await this.users?.removed(record, retired);
  }

  /**
   * Deletes an emptied session only if it still holds what this request loaded (compare-and-delete).
   * Undefined: deleted, the caller clears the cookie. On a conflict, this request's removals are
   * applied to what another request stored meanwhile; if data remains, that is written instead and
   * the cookie kept. 'missing': another request retired the session, so no cookie is sent.
   */
  private async deleteIfUnchanged(record: SessionRecord): Promise<Action | undefined> {
    const { options, store, serializer } = this.deps;
    const key = options.keyPrefix + record.id;
    let expected = record.loadedFrom as StoredValue;
    for (let attempt = 0; attempt < MAX_MERGE_ATTEMPTS; attempt++) {
      const result = await this.guard('delete', store.deleteIf(key, expected));
      if (result.status === 'ok') return undefined;
      if (result.status === 'missing') return NONE;
      const { data } = splitStored(serializer.loads(result.current));
      for (const name of record.removedKeys) delete data[name];
      for (const name of record.changed()) if (name in record.data) data[name] = record.data[name];
      if (Object.keys(data).length === 0) {
        expected = result.current;
        continue;
      }
      // Something another request stored survives our removals: keep the session, with it.
      record.data = data;
      record.loadedFrom = result.current;
      const user = this.users?.userToIndex(record);
      if ((await this.replace(record)) === 'missing') return NONE;
      await this.users?.written(record, user, false, this.ttlFor(record));
      return { kind: 'set', id: record.id };
    }
    throw new SessionStoreError('delete', `gave up after ${MAX_MERGE_ATTEMPTS} concurrent updates of one session`);
  }

  /** The stored dict, in Quart-Session's order: `_permanent` first, other metadata, then data. */
  private dictOf(record: SessionRecord): Record<string, unknown> {
    const dict: Record<string, unknown> = Object.create(null);
    if (record.permanent) dict._permanent = true;
    // Quart's rule: `session.permanent = False` stores `_permanent: false` (never written otherwise).
    else if (record.metadata._permanent === false) dict._permanent = false;
    for (const name of Object.keys(record.metadata)) if (name !== '_permanent') dict[name] = record.metadata[name];
    for (const name of Object.keys(record.data)) dict[name] = record.data[name];
    return dict;
  }

  private dump(dict: Record<string, unknown>): StoredValue {
    const value = this.deps.serializer.dumps(dict);
    const size = byteLength(value);
    if (size > this.deps.options.maxSize) throw new SessionTooLargeError(size, this.deps.options.maxSize);
    return value;
  }
}

/** The client's cookie names a session that is gone (destroyed here, or refused on load). */
function clientHoldsRetiredCookie(record: SessionRecord): boolean {
  return record.destroyed || record.staleCookie;
}

function nullPrototype(dict: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = Object.create(null);
  for (const name of Object.keys(dict)) copy[name] = dict[name];
  return copy;
}

function nowSeconds(): number {
  // Unix seconds like Python's time.time(), to the millisecond.
  return Date.now() / 1000;
}


