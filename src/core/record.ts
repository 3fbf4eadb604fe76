import { serialize as fingerprintOf } from 'node:v8';
import { SessionUsageError } from '../errors.js';

/**
 * The shape of your session data. Augment it to type `session` and `ctx.session`:
 *
 * ```ts
 * declare module 'koa-qsession' {
 *   interface SessionData { userId: number; cart: { items: string[] } }
 * }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface SessionData {}

/** What `regenerate()` carries over to the new id: everything (default), nothing, or the listed keys. */
export interface RegenerateOptions {
  keep?: 'all' | 'none' | readonly string[];
}

type Key = keyof SessionData & string;

/** The methods and read-only fields every session has, next to its data keys. */
export interface SessionMethods {
  /** The session id (what the cookie carries, unsigned). Changes after `regenerate()` / `destroy()`. */
  readonly id: string;
  /** True until the session has been stored (a fresh session, or one replaced by a new id). */
  readonly isNew: boolean;
  /** True when data changed in this request, nested changes included. */
  readonly modified: boolean;
  /** Whether the cookie outlives the browser session (option `permanent`, Quart's `_permanent`). */
  readonly permanent: boolean;
  get<K extends Key>(key: K): SessionData[K] | undefined;
  get<K extends Key>(key: K, fallback: SessionData[K]): SessionData[K];
  get<T = unknown>(key: string, fallback?: T): T | undefined;
  set<K extends Key>(key: K, value: SessionData[K]): this;
  set(key: string, value: unknown): this;
  has(key: string): boolean;
  delete(key: string): boolean;
  /** Remove every data key. An emptied stored session is deleted and its cookie cleared. */
  clear(): void;
  keys(): string[];
  toJSON(): Record<string, unknown>;
  /** Mark the session for saving. Required in `explicit` mode (Quart's `session.dirty()`). */
  dirty(): void;
  /** Move the session to a fresh id (after login): the old id stops working when the request ends. */
  regenerate(options?: RegenerateOptions): void;
  /** Delete the session from the store and clear the cookie. Data set afterwards starts a new session. */
  destroy(): void;
}

/** `session` / `ctx.session`: your `SessionData` keys as properties, plus the methods. */
export type Session = SessionMethods & Partial<SessionData> & { [key: string]: unknown };

/** Names that are methods or fields of the session; `then` keeps the session from looking like a promise. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  'get', 'set', 'has', 'delete', 'clear', 'keys', 'toJSON', 'dirty', 'regenerate', 'destroy',
  'id', 'isNew', 'modified', 'permanent', 'then',
]);

/** Keys Quart-Session keeps in the stored dict for itself; never visible as data. */
export const METADATA_KEYS: ReadonlySet<string> = new Set(['_permanent', '_addr', '_created']);

/** A stored dict split into the handler's data and the metadata keys (both null-prototype). */
export function splitStored(dict: Record<string, unknown>): { data: Record<string, unknown>; metadata: Record<string, unknown> } {
  const data: Record<string, unknown> = Object.create(null);
  const metadata: Record<string, unknown> = Object.create(null);
  for (const name of Object.keys(dict)) (METADATA_KEYS.has(name) ? metadata : data)[name] = dict[name];
  return { data, metadata };
}

/**
 * Whether a session created at `created` (Unix seconds, the stored `_created`) is past `maxAge` ms.
 * No `_created` yet (stored before `maxAge` was on) is not past; one that is not a number is.
 */
export function pastMaxAge(created: unknown, maxAge: number): boolean {
  if (created === undefined) return false;
  return typeof created !== 'number' || !(created * 1000 + maxAge > Date.now());
}

export interface SessionInit {
  /** Omitted for a fresh session: its id is made only when something needs it (most never do). */
  id?: string;
  isNew: boolean;
  permanent: boolean;
  data?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  /** The exact stored value this session was loaded from, for compare-and-set on save. */
  loadedFrom?: unknown;
  /** Makes fresh ids for `regenerate()` and `destroy()`. */
  newId: () => string;
}

/**
 * One request's session: its data, and everything the lifecycle needs to decide what to save.
 * Handlers see it only through `record.session` (a Proxy that makes data keys look like properties).
 */
export class SessionRecord {
  private currentId: string | undefined;
  isNew: boolean;
  permanent: boolean;
  /** Null-prototype, so `__proto__` and `constructor` are ordinary keys here. */
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  loadedFrom: unknown;
  readonly changedKeys = new Set<string>();
  readonly removedKeys = new Set<string>();
  /** Fingerprints of object values handed to the handler, to notice changes made inside them. */
  private readonly exposed = new Map<string, Buffer | null>();
  markedDirty = false;
  /** Ids whose store entries must go when the request ends (after regenerate / destroy). */
  readonly retiredIds: string[] = [];
  destroyed = false;
  regenerated = false;
  /** The client sent a session cookie that was not honoured (malformed, unknown, expired): clear it. */
  staleCookie = false;
  readonly newId: () => string;
  readonly session: Session;

  constructor(init: SessionInit) {
    this.currentId = init.id;
    this.isNew = init.isNew;
    this.permanent = init.permanent;
    this.data = init.data ?? Object.create(null);
    this.metadata = init.metadata ?? Object.create(null);
    this.loadedFrom = init.loadedFrom;
    this.newId = init.newId;
    this.session = new Proxy(new SessionFacade(this), facadeHandler) as unknown as Session;
  }

  get id(): string {
    return (this.currentId ??= this.newId());
  }

  set id(id: string) {
    this.currentId = id;
  }

  read(key: string): unknown {
    const value = this.data[key];
    if (value !== null && typeof value === 'object' && !this.changedKeys.has(key) && !this.exposed.has(key)) {
      this.exposed.set(key, fingerprint(value));
    }
    return value;
  }

  write(key: string, value: unknown): void {
    if (METADATA_KEYS.has(key)) throw new SessionUsageError(`"${key}" is kept by koa-qsession itself and cannot be set as data`);
    this.data[key] = value;
    this.changedKeys.add(key);
    this.removedKeys.delete(key);
  }

  remove(key: string): boolean {
    if (!(key in this.data)) return false;
    delete this.data[key];
    this.changedKeys.delete(key);
    this.exposed.delete(key);
    this.removedKeys.add(key);
    return true;
  }

  /** Keys whose values changed in this request (set, or mutated in place). */
  changed(): Set<string> {
    const keys = new Set(this.changedKeys);
    for (const key of this.exposed.keys()) if (this.mutatedInPlace(key)) keys.add(key);
    return keys;
  }

  get modified(): boolean {
    if (this.changedKeys.size > 0 || this.removedKeys.size > 0) return true;
    for (const key of this.exposed.keys()) if (this.mutatedInPlace(key)) return true;
    return false;
  }

  private mutatedInPlace(key: string): boolean {
    if (!(key in this.data)) return false;
    const before = this.exposed.get(key);
    return !before || !before.equals(fingerprint(this.data[key]) ?? EMPTY);
  }

  regenerate(options: RegenerateOptions = {}): void {
    const keep = options.keep ?? 'all';
    if (keep !== 'all') {
      const kept = keep === 'none' ? new Set<string>() : new Set(keep);
      for (const key of Object.keys(this.data)) if (!kept.has(key)) this.remove(key);
    }
    this.retire();
    this.regenerated = true;
    this.markedDirty = true;
  }

  destroy(): void {
    this.retire();
    this.data = Object.create(null);
    this.changedKeys.clear();
    this.removedKeys.clear();
    this.exposed.clear();
    this.destroyed = true;
    this.regenerated = false;
    this.markedDirty = false;
  }

  /** The old id goes to the retired list; the session continues under a fresh, unsaved id. */
  private retire(): void {
    if (!this.isNew) this.retiredIds.push(this.id);
    this.currentId = undefined; // a fresh id, made when first needed
    this.isNew = true;
    this.loadedFrom = undefined;
  }
}

const EMPTY = Buffer.alloc(0);

/** A cheap structural snapshot; null when the value cannot be snapshotted (always counts as changed). */
function fingerprint(value: unknown): Buffer | null {
  try {
    return fingerprintOf(value);
  } catch {
    return null;
  }
}

const RECORD = Symbol('koa-qsession.record');

/** The methods of a session; the Proxy sends every other property name to the data. */
class SessionFacade implements SessionMethods {
  readonly [RECORD]: SessionRecord;
  constructor(record: SessionRecord) {
    this[RECORD] = record;
  }
  get id(): string { return this[RECORD].id; }
  get isNew(): boolean { return this[RECORD].isNew; }
  get modified(): boolean { return this[RECORD].modified; }
  get permanent(): boolean { return this[RECORD].permanent; }
  get<T = unknown>(key: string, fallback?: T): T | undefined {
    const record = this[RECORD];
    return key in record.data ? (record.read(key) as T) : fallback;
  }
  set(key: string, value: unknown): this {
    this[RECORD].write(String(key), value);
    return this;
  }
  has(key: string): boolean { return key in this[RECORD].data; }
  delete(key: string): boolean { return this[RECORD].remove(String(key)); }
  clear(): void {
    const record = this[RECORD];
    for (const key of Object.keys(record.data)) record.remove(key);
  }
  keys(): string[] { return Object.keys(this[RECORD].data); }
  /** A plain copy of the data (`__proto__` stays an own key: fromEntries defines, never assigns). */
  toJSON(): Record<string, unknown> { return Object.fromEntries(Object.entries(this[RECORD].data)); }
  dirty(): void { this[RECORD].markedDirty = true; }
  regenerate(options?: RegenerateOptions): void { this[RECORD].regenerate(options); }
  destroy(): void { this[RECORD].destroy(); }
}

function reservedKeyError(key: string): SessionUsageError {
  return new SessionUsageError(
    `"${key}" is a method or field of the session and cannot be used as a data property; ` +
      `use session.set("${key}", value) / session.get("${key}") for such a key`,
  );
}

/** Property syntax for data keys: `session.foo`, `session.foo = 1`, `delete session.foo`, `'foo' in session`. */
const facadeHandler: ProxyHandler<SessionFacade> = {
  get(facade, prop) {
    if (typeof prop === 'symbol' || RESERVED_NAMES.has(prop)) return Reflect.get(facade, prop);
    return facade[RECORD].read(prop);
  },
  set(facade, prop, value) {
    if (typeof prop === 'symbol') throw new SessionUsageError('symbol keys cannot be stored in a session');
    if (RESERVED_NAMES.has(prop)) throw reservedKeyError(prop);
    facade[RECORD].write(prop, value);
    return true;
  },
  deleteProperty(facade, prop) {
    if (typeof prop === 'symbol') return true;
    if (RESERVED_NAMES.has(prop)) throw reservedKeyError(prop);
    facade[RECORD].remove(prop);
    return true;
  },
  has(facade, prop) {
    return typeof prop === 'string' && prop in facade[RECORD].data;
  },
  ownKeys(facade) {
    return Object.keys(facade[RECORD].data);
  },
  getOwnPropertyDescriptor(facade, prop) {
    if (typeof prop === 'symbol' || !(prop in facade[RECORD].data)) return undefined;
    return { value: facade[RECORD].read(prop), writable: true, enumerable: true, configurable: true };
  },
  defineProperty(facade, prop, descriptor) {
    if (typeof prop === 'symbol' || !('value' in descriptor)) throw new SessionUsageError('only plain values can be stored in a session');
    if (RESERVED_NAMES.has(prop)) throw reservedKeyError(prop);
    facade[RECORD].write(prop, descriptor.value);
    return true;
  },
  setPrototypeOf() {
    throw new SessionUsageError('the prototype of a session cannot be changed');
  },
};
