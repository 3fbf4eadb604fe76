import { SessionUsageError, SessionValueDecodeError } from '../errors.js';
import type { StoredValue } from '../stored-value.js';
import { StoreBudget } from './store-call.js';
import { NO_RAW, type EntryCodec } from '../serializers/entry-codec.js';
import { putMember, REMOVED } from '../serializers/session-text.js';
import type { SessionEvents } from './events.js';
import { createFacade, type FacadeTarget } from './facade.js';
import { reportLateChange, type RequestLabel } from './late-change.js';
import { lifetimeOf, METADATA_KEYS } from './metadata.js';
import { assertStorable } from './value-check.js';
import type { RegenerateOptions, Session } from './types.js';
import type { Turn } from './session-line.js';

export interface SessionInit {
  /** Omitted for a fresh session: its id is made only when something needs it (most never do). */
  id?: string;
  isNew: boolean;
  /** The `permanent` option: what a session without a stored `_permanent` is. */
  permanent: boolean;
  codec: EntryCodec;
  /** The stored members (data and metadata, in stored order) as the codec split them: nothing decoded yet. */
  members?: ReadonlyArray<readonly [string, unknown]>;
  /** The exact stored value this session was loaded from, for compare-and-set on save. */
  loadedFrom?: StoredValue;
  /** Makes fresh ids for `regenerate()` and `destroy()`. */
  newId: () => string;
  /** The idle lifetime (ms) of sessions without one of their own (option `lifetime`). */
  defaultLifetime?: number;
  /** The request's store budget (`storeTimeout` for all its store calls together); a new one if omitted. */
  budget?: StoreBudget;
  /** The client sent a session cookie that is not honoured (malformed, unknown, refused): clear it. */
  staleCookie?: boolean;
}

/** Not decoded yet: `value` is meaningless until the first read. */
const RAW = 0;
/** `value` holds the decoded (or written) value. */
const DECODED = 1;
/** An object value was handed to the handler: it may change in place, so it is compared at commit. */
const EXPOSED = 2;
/** Set in this request: written with its new encoding. */
const WRITTEN = 4;

/** One top-level key: its stored text (`raw`, kept verbatim unless the key changes) and its value once decoded. */
interface Slot {
  raw: unknown;
  value: unknown;
  state: number;
  /** For codecs that need one (no key granularity): the value's encoding when it was handed out. */
  snapshot?: unknown;
}

/** A save's view of the session: what to store, and the changes to apply on top of a newer stored value. */
export interface SavePlan {
  /** Every member to store, in order, as raw forms (untouched keys: their stored text). */
  readonly members: Array<[string, unknown]>;
  /** Keys this request set or changed (their new raw form) and removed (null), for merging. */
  readonly changes: ReadonlyMap<string, unknown>;
}

/**
 * One request's session, one top-level key at a time: a loaded session keeps each value's stored
 * text and decodes a value when the handler first reads it; a save writes untouched keys verbatim.
 * Handlers see it only through `record.session` (a Proxy that makes data keys look like properties).
 */
export class SessionRecord implements FacadeTarget {
  private currentId: string | undefined;
  private newFlag: boolean;
  private readonly defaultPermanent: boolean;
  private permanentFlag: boolean | undefined;
  readonly codec: EntryCodec;
  /** Data and metadata, in stored order (new keys at the end). A Map: `__proto__` is an ordinary key. */
  private readonly slots = new Map<string, Slot>();
  private loadedValue: StoredValue | undefined;
  /** Keys set, or removed, in this request (data and metadata). */
  readonly changedKeys = new Set<string>();
  readonly removedKeys = new Set<string>();
  /** Keys whose object values were handed out (to compare at commit). */
  private readonly exposed = new Set<string>();
  private dirtyFlag = false;
  /** Ids whose store entries must go when the request ends (after regenerate / destroy). */
  readonly retiredIds: string[] = [];
  private destroyedFlag = false;
  private staleCookieFlag: boolean;
  readonly newId: () => string;
  private facade: Session | undefined;
  /** The outcome of `settle()`: the raw form each key handed out is saved as. */
  private settled: Map<string, unknown> | undefined;
  /** See SessionInit.defaultLifetime. */
  readonly defaultLifetime: number;
  /** See SessionInit.budget. */
  readonly budget: StoreBudget;
  private touchedFlag = false;
  private sealedFlag = false;
  /** Where a change after the commit is reported (see `open`); none: such a change is a SessionUsageError. */
  private lateEvents: SessionEvents | undefined;
  private lateReported = false;
  /** The request this session belongs to, for reports (set by the Koa layer; read only when reporting). */
  request: RequestLabel | undefined;
  private supersededFlag = false;
  /** A writer's place in its session's line (see session-line.ts); undefined for readers and new sessions. */
  turn: Turn | undefined = undefined;
  /**
   * The cookie names a stored session the serializer cannot read (another app's): its label. The
   * request sees an empty session; a change to it is refused, and the cookie is never touched.
   */
  foreign: string | undefined = undefined;
  /** Re-reads a session from the store (`session.reload()`): the lifecycle's, set by the middleware. */
  reloader: ((record: SessionRecord) => Promise<void>) | undefined;

  constructor(init: SessionInit) {
    this.currentId = init.id;
    this.newFlag = init.isNew;
    this.staleCookieFlag = init.staleCookie ?? false;
    this.defaultPermanent = init.permanent;
    this.codec = init.codec;
    this.loadedValue = init.loadedFrom;
    this.newId = init.newId;
    this.defaultLifetime = init.defaultLifetime ?? 0;
    this.budget = init.budget ?? new StoreBudget();
    if (init.members) for (const [key, raw] of init.members) this.slots.set(key, { raw, value: undefined, state: RAW });
  }

  /** The handler's view (made on first use: a request that never touches the session pays nothing). */
  get session(): Session {
    return (this.facade ??= createFacade(this));
  }

  get id(): string {
    return (this.currentId ??= this.newId());
  }

  /** Another fresh id for a session not stored yet (its id was taken: `create` found it in use). */
  renewId(): void {
    this.currentId = this.newId();
  }

  // ---- state the lifecycle reads; each changes through the one method that says why -------------

  /** Not (yet) in the store under its id: fresh, or moved to a new id by regenerate / destroy. */
  get isNew(): boolean {
    return this.newFlag;
  }

  /** The exact stored value the session was loaded from or last saved as (compare-and-set's expectation). */
  get loadedFrom(): StoredValue | undefined {
    return this.loadedValue;
  }

  /** The session now holds `value` in the store under its id (a create or replace landed). */
  stored(value: StoredValue): void {
    this.newFlag = false;
    this.loadedValue = value;
  }

  /** `session.dirty()`, or metadata the lifecycle adopted: save even without a data change. */
  get markedDirty(): boolean {
    return this.dirtyFlag;
  }

  markDirty(): void {
    this.dirtyFlag = true;
  }

  /** `destroy()` was called in this request. */
  get destroyed(): boolean {
    return this.destroyedFlag;
  }

  /** The client sent a session cookie that was not honoured (malformed, unknown, expired): clear it. */
  get staleCookie(): boolean {
    return this.staleCookieFlag;
  }

  /** `session.touch()` was called: refresh the store TTL and the cookie even without a write. */
  get touched(): boolean {
    return this.touchedFlag;
  }

  /**
   * The cookie named a session another request retired while this one was in flight: the browser
   * holds, or is about to hold, that request's cookie, so this fresh session is never stored.
   */
  get superseded(): boolean {
    return this.supersededFlag;
  }

  supersede(): void {
    this.supersededFlag = true;
  }

  /** The request was committed: changes can no longer be saved (see `open`). */
  get sealed(): boolean {
    return this.sealedFlag;
  }

  /**
   * The request was committed. With `events` (the middleware's), a later change is reported there
   * and dropped, never thrown: it happens in a timer or a callback, where a throw ends the process.
   */
  seal(events?: SessionEvents): void {
    this.sealedFlag = true;
    this.lateEvents = events;
  }

  /** The stored `_permanent` when there is one (decoded when first asked), the `permanent` option otherwise. */
  get permanent(): boolean {
    if (this.permanentFlag === undefined) {
      const stored = this.storedPermanent();
      this.permanentFlag = typeof stored === 'boolean' ? stored : this.defaultPermanent;
    }
    return this.permanentFlag;
  }

  // ---- data, as the facade sees it -------------------------------------------------------------

  has(key: string): boolean {
    return this.slots.has(key) && !METADATA_KEYS.has(key);
  }

  keys(): string[] {
    const keys: string[] = [];
    for (const key of this.slots.keys()) if (!METADATA_KEYS.has(key)) keys.push(key);
    return keys;
  }

  /** Whether the session holds any data key (metadata alone does not count). */
  get hasData(): boolean {
    for (const key of this.slots.keys()) if (!METADATA_KEYS.has(key)) return true;
    return false;
  }

  read(key: string): unknown {
    const slot = this.slots.get(key);
    if (slot === undefined || METADATA_KEYS.has(key)) return undefined;
    const value = this.valueOf(slot, key);
    if (value !== null && typeof value === 'object' && slot.state < EXPOSED) {
      slot.state |= EXPOSED;
      if (slot.raw !== NO_RAW) slot.snapshot = this.codec.snapshot(key, value);
      this.exposed.add(key);
    }
    return value;
  }

  /** A data value without handing it out (no change tracking): for the core's own reads, e.g. the user id. */
  peek(key: string): unknown {
    const slot = this.slots.get(key);
    return slot === undefined || METADATA_KEYS.has(key) ? undefined : this.valueOf(slot, key);
  }

  write(key: string, value: unknown): void {
    if (!this.open('set', key)) return;
    if (METADATA_KEYS.has(key)) throw new SessionUsageError(`"${key}" is kept by koa-qsession itself and cannot be set as data`);
    // `session.x = undefined` stores no `x`, as JSON.stringify leaves out an undefined member.
    if (value === undefined) {
      this.remove(key);
      return;
    }
    // Refused here, on the handler's line, when the check is cheap (see value-check.ts); the rest at commit.
    assertStorable(this.codec, key, value);
    this.set(key, value);
  }

  remove(key: string): boolean {
    if (!this.open('delete', key)) return false;
    if (!this.has(key)) return false;
    this.drop(key);
    return true;
  }

  // ---- metadata, for the lifecycle --------------------------------------------------------------

  /** A metadata value (`_addr`, `_created`, `_permanent`), decoded when first asked. */
  meta(key: string): unknown {
    const slot = this.slots.get(key);
    return slot === undefined ? undefined : this.valueOf(slot, key);
  }

  setMeta(key: string, value: unknown): void {
    this.set(key, value);
  }

  // ---- per-session lifetime, touch, reload (the koa-session / express-session idioms) -------------

  /** Changes after the commit would be lost without a word: refuse them (reads stay allowed). */
  assertOpen(): void {
    if (this.sealedFlag) throw sealedError();
  }

  /**
   * Whether the session can still change (reads are always allowed). After the commit it cannot:
   * sealed with the middleware's events, the change is reported (the first one of the request) and
   * the caller drops it (false); sealed without, it is a SessionUsageError.
   */
  open(change: string, key?: string): boolean {
    if (!this.sealedFlag) return true;
    if (this.lateEvents === undefined) throw sealedError();
    if (!this.lateReported) {
      this.lateReported = true;
      reportLateChange(this.lateEvents, key === undefined ? change : `${change} ${JSON.stringify(key.slice(0, 64))}`, this.request);
    }
    return false;
  }

  /** `session.permanent = value`: Quart's rule, `_permanent` is stored either way once set. */
  setPermanent(value: boolean): void {
    if (!this.open('set session.permanent')) return;
    this.permanentFlag = value;
    this.set('_permanent', value);
    this.dirtyFlag = true;
  }

  /** This session's own idle lifetime in ms (`_lifetime`, stored in seconds), or the default. */
  get lifetime(): number {
    let seconds: unknown;
    try {
      seconds = this.meta('_lifetime');
    } catch {
      seconds = undefined; // undecodable: the default
    }
    return lifetimeOf({ _lifetime: seconds }, this.defaultLifetime);
  }

  /** `session.cookie.maxAge = ms`: this session's own idle lifetime; a persistent cookie. */
  setLifetime(ms: number): void {
    if (!this.open('set session.cookie.maxAge')) return;
    this.set('_lifetime', ms / 1000);
    this.setPermanent(true);
  }

  /** `session.reload()`: see `reloaded`. */
  reload(): Promise<void> {
    if (this.sealedFlag) {
      try {
        this.open('session.reload()');
      } catch (error) {
        return Promise.reject(error);
      }
      return Promise.resolve();
    }
    if (!this.reloader) return Promise.reject(new SessionUsageError('session.reload() needs the qsession() middleware'));
    return this.reloader(this);
  }

  /** `session.touch()`: refresh this session's TTL and cookie when the request ends. */
  touch(): void {
    if (!this.open('session.touch()')) return;
    this.touchedFlag = true;
  }

  /**
   * `session.reload()`: take what the store holds now (null: the session is gone there), dropping
   * this request's unsaved changes. A `destroy()` or `regenerate()` made before stays made.
   */
  reloaded(loaded: { members: ReadonlyArray<readonly [string, unknown]>; loadedFrom: StoredValue } | null): void {
    if (!this.open('session.reload()')) return;
    this.changedKeys.clear();
    this.removedKeys.clear();
    this.exposed.clear();
    this.settled = undefined;
    this.dirtyFlag = false;
    this.touchedFlag = false;
    this.permanentFlag = undefined;
    const address = this.slots.get('_addr');
    this.slots.clear();
    if (loaded === null) {
      if (!this.newFlag) {
        // The cookie names a session the store no longer has: continue as a fresh one, clear the cookie.
        this.staleCookieFlag = true;
        this.currentId = undefined;
        this.newFlag = true;
        this.loadedValue = undefined;
      }
      if (address) this.slots.set('_addr', address);
      return;
    }
    for (const [key, raw] of loaded.members) this.slots.set(key, { raw, value: undefined, state: RAW });
    this.loadedValue = loaded.loadedFrom;
  }

  // ---- change tracking ---------------------------------------------------------------------------

  /** True when data changed in this request, nested changes included (values handed out are encoded to compare). */
  get modified(): boolean {
    if (this.dataKeyChanged()) return true;
    for (const key of this.exposed) if (this.settleOne(key) !== this.slots.get(key)!.raw) return true;
    return false;
  }

  /**
   * At commit, once: works out which values handed out changed in place (at most one encoding of
   * each) and whether anything changed at all. `plan()` then reuses the outcome.
   */
  settle(): boolean {
    let changed = this.dataKeyChanged();
    if (this.exposed.size === 0) return changed;
    this.settled = new Map();
    for (const key of this.exposed) {
      const out = this.settleOne(key);
      this.settled.set(key, out);
      if (out !== this.slots.get(key)!.raw) changed = true;
    }
    return changed;
  }

  /** A data key was set or removed (metadata the core adopts or drops is not a change of the handler's). */
  private dataKeyChanged(): boolean {
    for (const key of this.changedKeys) if (!METADATA_KEYS.has(key)) return true;
    for (const key of this.removedKeys) if (!METADATA_KEYS.has(key)) return true;
    return false;
  }

  /** Keys whose values changed in this request (set, or mutated in place). */
  changed(): Set<string> {
    const keys = new Set(this.changedKeys);
    for (const key of this.exposed) if (this.settleOne(key) !== this.slots.get(key)!.raw) keys.add(key);
    return keys;
  }

  /**
   * What a save stores. A new session is written in Quart-Session's order (`_permanent` first, other
   * metadata, then data); a stored one keeps its stored order, new keys at the end. `_permanent` is
   * stored when the session is permanent and dropped when not (a stored `false` is kept as is).
   */
  plan(): SavePlan {
    this.syncPermanent();
    const changes = new Map<string, unknown>();
    const out = (key: string, slot: Slot): unknown => {
      let raw = slot.raw;
      if (slot.state & WRITTEN) raw = this.codec.encode(slot.value, key);
      else if (slot.state & EXPOSED) raw = this.settled?.get(key) ?? this.settleOne(key);
      if (raw !== slot.raw || this.changedKeys.has(key)) changes.set(key, raw);
      return raw;
    };
    let members: Array<[string, unknown]>;
    if (this.isNew) {
      members = [];
      const permanent = this.slots.get('_permanent');
      if (permanent) members.push(['_permanent', out('_permanent', permanent)]);
      for (const [key, slot] of this.slots) if (key !== '_permanent' && METADATA_KEYS.has(key)) members.push([key, out(key, slot)]);
      for (const [key, slot] of this.slots) if (!METADATA_KEYS.has(key)) members.push([key, out(key, slot)]);
    } else {
      let stored = new Map<string, unknown>();
      const added: string[] = [];
      for (const [key, slot] of this.slots) {
        if (slot.raw === NO_RAW) added.push(key);
        else stored.set(key, out(key, slot));
      }
      for (const key of added) stored = putMember(stored, key, out(key, this.slots.get(key)!));
      members = [...stored];
    }
    for (const key of this.removedKeys) changes.set(key, REMOVED);
    return { members, changes };
  }

  /** The stored `_permanent`; one that does not decode counts as absent (and is replaced on save). */
  private storedPermanent(): unknown {
    try {
      return this.meta('_permanent');
    } catch {
      return undefined;
    }
  }

  private syncPermanent(): void {
    const permanent = this.permanent;
    const stored = this.storedPermanent();
    if (permanent && stored !== true) this.set('_permanent', true);
    else if (!permanent && stored !== undefined && stored !== false) this.drop('_permanent');
  }

  // ---- regenerate / destroy ---------------------------------------------------------------------

  regenerate(options: RegenerateOptions = {}): void {
    if (!this.open('session.regenerate()')) return;
    const keep = options.keep ?? 'all';
    if (keep !== 'all') {
      const kept = keep === 'none' ? new Set<string>() : new Set(keep);
      for (const key of this.keys()) if (!kept.has(key)) this.remove(key);
    }
    this.retire();
    this.dirtyFlag = true;
  }

  destroy(): void {
    if (!this.open('session.destroy()')) return;
    this.retire();
    // Metadata (the pinned address, the creation time) carries over to a session started afterwards.
    for (const key of this.keys()) this.slots.delete(key);
    this.changedKeys.clear();
    this.removedKeys.clear();
    this.exposed.clear();
    this.settled = undefined;
    this.destroyedFlag = true;
    this.dirtyFlag = false;
  }

  /** The old id goes to the retired list; the session continues under a fresh, unsaved id. */
  private retire(): void {
    if (!this.newFlag) this.retiredIds.push(this.id);
    this.currentId = undefined; // a fresh id, made when first needed
    this.newFlag = true;
    this.loadedValue = undefined;
  }

  // ---- slots ----------------------------------------------------------------------------------

  /** A value that does not decode throws each time it is read, and stays stored as it was. */
  private valueOf(slot: Slot, key: string): unknown {
    if (slot.state === RAW) {
      try {
        slot.value = this.codec.decode(slot.raw);
      } catch (failure) {
        throw new SessionValueDecodeError(key, this.codec.name, failure);
      }
      slot.state = DECODED;
    }
    return slot.value;
  }

  private set(key: string, value: unknown): void {
    const slot = this.slots.get(key);
    // A key set again keeps its place (as in a Python dict); a removed key that comes back goes last.
    if (slot) {
      slot.value = value;
      slot.state = DECODED | WRITTEN;
    } else this.slots.set(key, { raw: NO_RAW, value, state: DECODED | WRITTEN });
    this.exposed.delete(key);
    this.changedKeys.add(key);
    this.removedKeys.delete(key);
  }

  private drop(key: string): void {
    this.slots.delete(key);
    this.changedKeys.delete(key);
    this.exposed.delete(key);
    this.removedKeys.add(key);
  }

  private settleOne(key: string): unknown {
    const slot = this.slots.get(key)!;
    return this.codec.settle(key, slot.raw, slot.snapshot, slot.value);
  }
}

function sealedError(): SessionUsageError {
  return new SessionUsageError(
    'the session was changed after its request was committed (in a timer, a callback or fire-and-forget code ' +
      'that outlived the response, or in middleware above qsession() after it returned); such a change is never ' +
      'saved. Make it before the response is sent (await the work in the handler)',
  );
}
