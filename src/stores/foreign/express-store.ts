import type { StoredValue } from '../../stored-value.js';
import type { SessionStore } from '../store.js';
import { ForeignStoreAdapter, type OwnEntry } from './adapter.js';
import { callback, isObject, pack, unpack, type ForeignRead, type ForeignStoreOptions } from './shared.js';

/** The cookie part of the session object handed to an express-session store: what its TTL logic reads. */
export interface ExpressSessionCookie {
  /** The TTL in ms (express-session's `cookie.originalMaxAge`). */
  originalMaxAge: number;
  /** The same TTL in ms (stores such as connect-memcached read `cookie.maxAge`). */
  maxAge: number;
  /** When the entry expires (connect-redis, connect-pg-simple, connect-mongo read this). A string once the store has JSON-parsed it. */
  expires: Date | string;
}

/**
 * The session object an express-session store is given: our serialized value in `qsession`
 * (text) or `qsessionBytes` (base64 of the v8 serializer's bytes), and a cookie carrying the TTL.
 */
export interface ExpressSessionRecord {
  cookie: ExpressSessionCookie;
  qsession?: string;
  qsessionBytes?: string;
}

export type ExpressStoreCallback = (error?: unknown, result?: unknown) => void;

/**
 * Any express-session store (connect-redis, connect-pg-simple, connect-mongo, ...): the callback
 * form every one of them has. `touch` is optional, as in express-session.
 *
 * What `set` and `touch` receive is an `ExpressSessionRecord`. Their parameter is typed `never` so
 * that a store typed against any `SessionData` (express-session's, often augmented by the
 * application with fields of its own) fits without a cast.
 */
export interface ExpressSessionStoreLike {
  get(sid: string, callback: ExpressStoreCallback): unknown;
  set(sid: string, session: never, callback: ExpressStoreCallback): unknown;
  destroy(sid: string, callback: ExpressStoreCallback): unknown;
  touch?(sid: string, session: never, callback: ExpressStoreCallback): unknown;
}

export type ExpressStoreAdapterOptions = ForeignStoreOptions;

/**
 * Runs an express-session store as a koa-qsession `SessionStore`:
 * `qsession({ store: fromExpressStore(new RedisStore({ client })) })`.
 *
 * Guarantees (details in docs/stores-foreign.md): the store has no compare-and-set, so `create`
 * is a get then a set and `replace` a get, a comparison and a set. Inside this process those
 * pairs are atomic (writes to one key are queued). Between processes sharing the store they are
 * not: two processes creating one key may both succeed, two replaces of one session may both
 * succeed (one process's change is lost), and a replace or touch in flight in one process can
 * bring back a session another process just destroyed. Expiry is the store's own (connect-redis
 * and connect-pg-simple count whole seconds). No user index (`userKey` is refused). The adapter
 * never closes the store: that stays with the application that made it.
 */
export function fromExpressStore(store: ExpressSessionStoreLike, options: ExpressStoreAdapterOptions = {}): SessionStore {
  return new ExpressStoreAdapter(store, options);
}

class ExpressStoreAdapter extends ForeignStoreAdapter<ExpressSessionRecord> {
  constructor(
    private readonly store: ExpressSessionStoreLike,
    options: ExpressStoreAdapterOptions,
  ) {
    super('fromExpressStore', 'express', store, options);
  }

  protected async remove(key: string): Promise<void> {
    await callback((done) => this.store.destroy(key, done));
  }

  // express-session stores take no lifetime on a read.
  protected async read(key: string): Promise<ForeignRead<ExpressSessionRecord>> {
    const session = await callback((done) => this.store.get(key, done));
    if (session === null || session === undefined) return { state: 'missing' };
    if (!isObject(session)) return { state: 'foreign' };
    const value = unpack(session.qsession, session.qsessionBytes);
    if (value === undefined) return { state: 'foreign' };
    return { state: 'ours', value, record: session as unknown as ExpressSessionRecord };
  }

  protected async write(key: string, value: StoredValue, ttlMs: number): Promise<void> {
    const packed = pack(value);
    const record: ExpressSessionRecord = { cookie: cookieFor(ttlMs) };
    if (packed.text !== undefined) record.qsession = packed.text;
    else record.qsessionBytes = packed.base64;
    await callback((done) => this.store.set(key, record as never, done));
  }

  /**
   * Restarts the expiry. express-session hands `touch` the whole session and some stores write it
   * back whole, so it gets the whole session as it was just read, with the new cookie.
   */
  protected async refresh(key: string, { record }: OwnEntry<ExpressSessionRecord>, ttlMs: number): Promise<void> {
    const next: ExpressSessionRecord = { ...record, cookie: cookieFor(ttlMs) };
    const { touch } = this.store;
    if (typeof touch === 'function') await callback((done) => touch.call(this.store, key, next as never, done));
    else await callback((done) => this.store.set(key, next as never, done));
  }
}

/** The cookie express-session would hand the store for a session that lives `ttlMs` more. */
function cookieFor(ttlMs: number): ExpressSessionCookie {
  return { originalMaxAge: ttlMs, maxAge: ttlMs, expires: new Date(Date.now() + ttlMs) };
}
