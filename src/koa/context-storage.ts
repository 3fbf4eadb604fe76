import { AsyncLocalStorage } from 'node:async_hooks';
import { SessionUsageError } from '../errors.js';
import type { Session } from '../core/types.js';

/**
 * The request-local storage behind the global `session`. Kept on `globalThis` under a registered
 * symbol so that the ESM and CommonJS builds of this package, if both get loaded, share one store.
 */
const STORAGE_KEY = Symbol.for('koa-qsession.storage');
type Global = typeof globalThis & { [STORAGE_KEY]?: AsyncLocalStorage<Session> };

export const sessionStorage: AsyncLocalStorage<Session> = ((globalThis as Global)[STORAGE_KEY] ??= new AsyncLocalStorage<Session>());

/**
 * The context storages of Koa apps made with `new Koa({ asyncLocalStorage: true })`. In those apps
 * the middleware adds no storage of its own (one `run()` per request is not free): the global
 * `session` finds the request through Koa's `app.currentContext` instead. Shared like the above.
 */
const KOA_STORAGES_KEY = Symbol.for('koa-qsession.koa-storages');
/**
 * Where the middleware keeps the request's session on `ctx` (`ctx.session` is an accessor over it,
 * see session-property.ts). Registered, so the ESM and CommonJS builds find each other's.
 */
export const CTX_SESSION: unique symbol = Symbol.for('koa-qsession.ctx-session');
type KoaStorage = AsyncLocalStorage<{ [CTX_SESSION]?: Session }>;
const koaStorages: Set<KoaStorage> = ((globalThis as Global & { [KOA_STORAGES_KEY]?: Set<KoaStorage> })[KOA_STORAGES_KEY] ??= new Set());

/** Lets the global `session` look in this Koa app's context storage. Idempotent. */
export function useKoaStorage(storage: AsyncLocalStorage<object>): void {
  koaStorages.add(storage as KoaStorage);
}

/** The current request's session (the record's facade), if any. */
export function findSession(): Session | undefined {
  const own = sessionStorage.getStore();
  if (own !== undefined) return own;
  for (const storage of koaStorages) {
    const session = storage.getStore()?.[CTX_SESSION];
    if (session !== undefined) return session;
  }
  return undefined;
}

export function currentSession(): Session {
  const current = findSession();
  if (current === undefined) throw outsideRequestError();
  return current;
}

/** The one error for `session` or `ctx.session` reached where qsession() has not run. */
export function outsideRequestError(): SessionUsageError {
  return new SessionUsageError(
    '`session` (or `ctx.session`) was used outside a request handled by the qsession() middleware ' +
      '(add app.use(qsession(...)) before the routes that use it)',
  );
}

/**
 * Quart's context-local `session`: every property access goes to the current request's session.
 * Outside a request every access throws a clear `SessionUsageError`.
 */
export const session: Session = new Proxy(Object.create(null) as Session, {
  get: (_, prop) => Reflect.get(currentSession(), prop),
  set: (_, prop, value) => Reflect.set(currentSession(), prop, value),
  has: (_, prop) => Reflect.has(currentSession(), prop),
  deleteProperty: (_, prop) => Reflect.deleteProperty(currentSession(), prop),
  ownKeys: () => Reflect.ownKeys(currentSession()),
  getOwnPropertyDescriptor: (_, prop) => Reflect.getOwnPropertyDescriptor(currentSession(), prop),
  defineProperty: (_, prop, descriptor) => Reflect.defineProperty(currentSession(), prop, descriptor),
});
