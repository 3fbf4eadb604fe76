import { SessionUsageError } from '../errors.js';
import type { RequestLabel } from './late-change.js';
import { createSessionCookie, type SessionCookie, type CookieTarget } from './session-cookie.js';
import type { RegenerateOptions, Session, SessionMethods } from './types.js';

/**
 * What the facade needs of a session record (implemented by `FacadeTarget`); declared here so the
 * facade and the record do not import each other.
 */
export interface FacadeTarget extends CookieTarget {
  readonly id: string;
  readonly isNew: boolean;
  readonly modified: boolean;
  has(key: string): boolean;
  keys(): string[];
  markDirty(): void;
  /** False when the request was committed: the change is then reported and dropped (see SessionRecord.open). */
  open(change: string, key?: string): boolean;
  request: RequestLabel | undefined;
  reload(): Promise<void>;
  touch(): void;
  read(key: string): unknown;
  write(key: string, value: unknown): void;
  remove(key: string): boolean;
  regenerate(options?: RegenerateOptions): void;
  destroy(): void;
}

/** Names that are methods or fields of the session; `then` keeps the session from looking like a promise. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  'get', 'set', 'has', 'delete', 'clear', 'keys', 'toJSON', 'dirty', 'regenerate', 'destroy',
  'id', 'isNew', 'modified', 'permanent', 'then', 'cookie', 'touch', 'save', 'reload',
]);

/** Reserved names that can be assigned: `session.permanent = false`. */
const WRITABLE_FIELDS: ReadonlySet<string> = new Set(['permanent']);

/**
 * What koa-session and express-session put on their session object and this one spells
 * differently: used as a property, each is an error naming ours (not a silent data key).
 */
const FOREIGN_NAMES: ReadonlyMap<string, string> = new Map([
  ['maxAge', "koa-session's session.maxAge is session.cookie.maxAge here (this session's idle lifetime in ms); maxAge = 'session' is session.permanent = false"],
  ['resetMaxAge', "express-session's resetMaxAge() is session.touch() here"],
  ['manuallyCommit', "koa-session's manuallyCommit() has no equivalent: the session is saved before the response is sent; session.save() forces the write"],
  ['externalKey', "koa-session's externalKey is session.id here"],
  ['populated', "koa-session's populated is session.keys().length > 0 here"],
  ['originalMaxAge', "express-session's cookie.originalMaxAge is session.cookie.maxAge here"],
]);

const RECORD = Symbol('koa-qsession.record');
const COOKIE = Symbol('koa-qsession.cookie');

/** The methods of a session; the Proxy sends every other property name to the data. */
class SessionFacade implements SessionMethods {
  readonly [RECORD]: FacadeTarget;
  [COOKIE]: SessionCookie | undefined;
  constructor(record: FacadeTarget) {
    this[RECORD] = record;
  }
  get id(): string { return this[RECORD].id; }
  get isNew(): boolean { return this[RECORD].isNew; }
  get modified(): boolean { return this[RECORD].modified; }
  get permanent(): boolean { return this[RECORD].permanent; }
  /** `false`: a browser-session cookie for this session ("remember me" off); stored as Quart's `_permanent`. */
  set permanent(value: boolean) {
    if (typeof value !== 'boolean') throw new SessionUsageError(`session.permanent must be true or false (got ${typeof value})`);
    this[RECORD].setPermanent(value);
  }
  get cookie(): SessionCookie {
    return (this[COOKIE] ??= createSessionCookie(this[RECORD]));
  }
  touch(): void { this[RECORD].touch(); }
  save(callback?: unknown): void {
    if (callback !== undefined) {
      throw new SessionUsageError('session.save() takes no callback: it marks the session, which is written before the response is sent');
    }
    const record = this[RECORD];
    if (record.open('session.save()')) record.markDirty();
  }
  reload(callback?: unknown): Promise<void> {
    if (callback !== undefined) throw new SessionUsageError('session.reload() takes no callback: `await session.reload()`');
    return this[RECORD].reload();
  }
  get<T = unknown>(key: string, fallback?: T): T | undefined {
    const record = this[RECORD];
    return record.has(key) ? (record.read(key) as T) : fallback;
  }
  set(key: string, value: unknown): this {
    this[RECORD].write(String(key), value);
    return this;
  }
  has(key: string): boolean { return this[RECORD].has(key); }
  delete(key: string): boolean { return this[RECORD].remove(String(key)); }
  clear(): void {
    const record = this[RECORD];
    for (const key of record.keys()) record.remove(key);
  }
  keys(): string[] { return this[RECORD].keys(); }
  /** A plain copy of the data (`__proto__` stays an own key: fromEntries defines, never assigns). */
  toJSON(): Record<string, unknown> {
    const record = this[RECORD];
    return Object.fromEntries(record.keys().map((key) => [key, record.read(key)]));
  }
  dirty(): void {
    const record = this[RECORD];
    if (record.open('session.dirty()')) record.markDirty();
  }
  regenerate(options?: RegenerateOptions): void {
    if (typeof options === 'function') throw new SessionUsageError('session.regenerate() takes no callback: it takes effect when the request ends');
    this[RECORD].regenerate(options);
  }
  destroy(callback?: unknown): void {
    if (callback !== undefined) throw new SessionUsageError('session.destroy() takes no callback: it takes effect when the request ends');
    this[RECORD].destroy();
  }
}

function foreignNameError(key: string, hint: string): SessionUsageError {
  return new SessionUsageError(`${hint} (a data key named "${key}" is reachable with session.get / session.set)`);
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
    const foreign = FOREIGN_NAMES.get(prop);
    if (foreign !== undefined) throw foreignNameError(prop, foreign);
    return facade[RECORD].read(prop);
  },
  set(facade, prop, value) {
    if (typeof prop === 'symbol') throw new SessionUsageError('symbol keys cannot be stored in a session');
    if (WRITABLE_FIELDS.has(prop)) return Reflect.set(facade, prop, value);
    if (RESERVED_NAMES.has(prop)) throw reservedKeyError(prop);
    const foreign = FOREIGN_NAMES.get(prop);
    if (foreign !== undefined) throw foreignNameError(prop, foreign);
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
    return typeof prop === 'string' && facade[RECORD].has(prop);
  },
  ownKeys(facade) {
    return facade[RECORD].keys();
  },
  getOwnPropertyDescriptor(facade, prop) {
    if (typeof prop === 'symbol' || !facade[RECORD].has(prop)) return undefined;
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

/** The handler's view of a record: data keys as properties, plus the session methods. */
export function createFacade(record: FacadeTarget): Session {
  return new Proxy(new SessionFacade(record), facadeHandler) as unknown as Session;
}

/** Names the request `session` belongs to in reports (a late change); `request` is read only then (Koa's ctx will do). */
export function attachRequest(session: Session, request: RequestLabel): void {
  // A symbol read goes through the Proxy to the facade itself (see facadeHandler.get).
  (session as unknown as SessionFacade)[RECORD].request = request;
}
