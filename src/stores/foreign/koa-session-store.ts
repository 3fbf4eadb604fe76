import type { StoredValue } from '../../stored-value.js';
import type { SessionStore } from '../store.js';
import { ForeignStoreAdapter, type OwnEntry } from './adapter.js';
import { isObject, pack, unpack, type ForeignRead, type ForeignStoreOptions } from './shared.js';

/**
 * The session object a koa-session external store is given: our serialized value in `_qsession`
 * (text) or `_qsessionBytes` (base64 of the v8 serializer's bytes), and koa-session's own expiry
 * fields, `_expire` (epoch ms) and `_maxAge` (ms).
 */
export interface KoaSessionRecord {
  _expire: number;
  _maxAge: number;
  _qsession?: string;
  _qsessionBytes?: string;
}

/**
 * Any koa-session external store (koa-redis, ...): promise-based `get` / `set` / `destroy`, as
 * koa-session 7 calls them. `ctx` is never passed: a store sits below the request, and
 * koa-qsession calls it outside of one too (`destroyUserSessions`, sweeps).
 */
export interface KoaSessionStoreLike {
  get(key: string, maxAge: number, options: { rolling: boolean; ctx?: unknown }): unknown;
  set(key: string, session: KoaSessionRecord, maxAge: number, options: { rolling: boolean; changed: boolean; ctx?: unknown }): unknown;
  destroy(key: string, options: { ctx?: unknown }): unknown;
}

export type KoaSessionStoreAdapterOptions = ForeignStoreOptions;

/**
 * Runs a koa-session external store as a koa-qsession `SessionStore`:
 * `qsession({ store: fromKoaSessionStore(redisStore({ url })) })`.
 *
 * Same guarantees as `fromExpressStore` (docs/stores-foreign.md): no compare-and-set, so create
 * and replace are read-then-write, atomic within this process only. The store has no touch:
 * refreshing the expiry (`touch`, rolling sessions) writes the session back whole, so between
 * processes a refresh can undo a concurrent write or bring back a destroyed session. Expiry is
 * checked here too, on `_expire`, as koa-session does, so it is exact to the millisecond whatever
 * the store's own clock step.
 */
export function fromKoaSessionStore(store: KoaSessionStoreLike, options: KoaSessionStoreAdapterOptions = {}): SessionStore {
  return new KoaSessionStoreAdapter(store, options);
}

class KoaSessionStoreAdapter extends ForeignStoreAdapter<KoaSessionRecord> {
  constructor(
    private readonly store: KoaSessionStoreLike,
    options: KoaSessionStoreAdapterOptions,
  ) {
    super('fromKoaSessionStore', 'koa-session', store, options);
  }

  protected async remove(key: string): Promise<void> {
    await this.store.destroy(key, {});
  }

  /** koa-session stores have no touch: the session is written back whole, as a rolling save (`changed: false`). */
  protected refresh(key: string, found: OwnEntry<KoaSessionRecord>, ttlMs: number): Promise<void> {
    return this.put(key, found.value, ttlMs, false);
  }

  protected write(key: string, value: StoredValue, ttlMs: number): Promise<void> {
    return this.put(key, value, ttlMs, true);
  }

  protected async read(key: string, maxAge: number): Promise<ForeignRead<KoaSessionRecord>> {
    const session: unknown = await this.store.get(key, maxAge, { rolling: false });
    if (session === null || session === undefined) return { state: 'missing' };
    if (!isObject(session)) return { state: 'foreign' };
    // koa-session's own rule: past `_expire` the session is gone, whatever the store still holds.
    if (typeof session._expire === 'number' && session._expire <= Date.now()) return { state: 'missing' };
    const value = unpack(session._qsession, session._qsessionBytes);
    if (value === undefined) return { state: 'foreign' };
    return { state: 'ours', value, record: session as unknown as KoaSessionRecord };
  }

  private async put(key: string, value: StoredValue, ttlMs: number, changed: boolean): Promise<void> {
    const packed = pack(value);
    const record: KoaSessionRecord = { _expire: Date.now() + ttlMs, _maxAge: ttlMs };
    if (packed.text !== undefined) record._qsession = packed.text;
    else record._qsessionBytes = packed.base64;
    await this.store.set(key, record, ttlMs, { rolling: !changed, changed });
  }
}
