import type { SessionCookie } from './session-cookie.js';

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
  /**
   * Whether the cookie outlives the browser session (option `permanent`, Quart's `_permanent`).
   * Settable per session: `false` for "remember me" off (a browser-session cookie; stored as
   * `_permanent: false`, as Quart does), `true` back.
   */
  permanent: boolean;
  /** This session's cookie lifetime: `session.cookie.maxAge = 30 * DAY` ("remember me"), `= null` (browser session). */
  readonly cookie: SessionCookie;
  get<K extends Key>(key: K): SessionData[K] | undefined;
  get<K extends Key>(key: K, fallback: SessionData[K]): SessionData[K];
  /** An undeclared key with a fallback: the fallback's type (`get('visits', 0)` is a number). */
  get<T>(key: string, fallback: T): T;
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
  /** Write the session when the request ends even if nothing changed (explicit mode too). koa-session's `save()`. */
  save(): void;
  /** Restart this session's idle lifetime now: store TTL and cookie expiry, without a data write. */
  touch(): void;
  /** Re-read the session from the store, dropping this request's unsaved changes. */
  reload(): Promise<void>;
  /** Move the session to a fresh id (after login): the old id stops working when the request ends. */
  regenerate(options?: RegenerateOptions): void;
  /** Delete the session from the store and clear the cookie. Data set afterwards starts a new session. */
  destroy(): void;
}

/** `session` / `ctx.session`: your `SessionData` keys as properties, plus the methods. */
export type Session = SessionMethods & Partial<SessionData> & { [key: string]: unknown };

/**
 * What `ctx.session` takes: `null` destroys the session (koa-session's logout), a plain object
 * replaces its data with the object's own keys (declared `SessionData` keys keep their types).
 */
export type SessionReplacement = Partial<SessionData> & { [key: string]: unknown };

/**
 * `ctx.session` on Koa's context: reads give the `Session`; `null` and a plain object can be
 * assigned (see `SessionReplacement`). An interface the context extends rather than members of the
 * augmentation itself: the ESM and CommonJS typings of this package can meet in one program, and
 * two get/set pairs for one member do not merge, while two such base interfaces do.
 */
export interface SessionContext {
  get session(): Session;
  set session(value: Session | SessionReplacement | null);
}
