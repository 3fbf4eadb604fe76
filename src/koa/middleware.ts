import type { Context, Middleware, Next } from 'koa';
import { resolveOptions } from '../config/resolve.js';
import type { QSessionOptions } from '../config/options.js';
import { createStore } from '../config/store-factory.js';
import { createEvents, type SessionEventMap, type SessionEvents } from '../core/events.js';
import { Lifecycle } from '../core/lifecycle.js';
import { boundedStoreCall } from '../core/store-call.js';
import { SessionOptionsError } from '../errors.js';
import type { SessionStore } from '../stores/store.js';
import { UserIndexUpkeep } from '../users/index-upkeep.js';
import { UserSessions, type DestroyUserSessionsOptions, type UserId, type UserSessionInfo } from '../users/user-sessions.js';
import { sessionStorage, useKoaStorage } from './context-storage.js';
import { CookieExchange, type Opened } from './cookie-exchange.js';

/** The middleware, plus handles on what it owns. */
export interface QSessionMiddleware extends Middleware {
  readonly store: SessionStore;
  readonly events: SessionEvents;
  on<E extends keyof SessionEventMap>(event: E, listener: (...args: SessionEventMap[E]) => void): QSessionMiddleware;
  /** Closes what the store opened itself (a client you passed in stays open). */
  close(): Promise<void>;
  /**
   * The user's live sessions (option `userKey`). Throws `SessionUsageError` when `userKey` is off
   * or the store cannot enumerate (no `userIndex`, e.g. memcached).
   */
  listUserSessions(user: UserId): Promise<UserSessionInfo[]>;
  /** Deletes the user's sessions except `except` ("log out my other sessions"); resolves to how many. */
  destroyUserSessions(user: UserId, options?: DestroyUserSessionsOptions): Promise<number>;
}

/** `app.use(qsession(options))`: server-side sessions, with `session` / `ctx.session` in every handler. */
export function qsession(options: QSessionOptions = {}): QSessionMiddleware {
  const resolved = resolveOptions(options);
  const store = createStore(options);
  const events = createEvents();
  const { serializer } = resolved;
  const { userKey } = resolved;
  if (userKey !== undefined && !store.userIndex) {
    throw new SessionOptionsError('userKey', `needs a store that can enumerate a user's sessions; the ${store.name} store has no userIndex`);
  }
  const guard = boundedStoreCall(store.name, resolved.storeTimeout);
  const upkeep = userKey !== undefined && store.userIndex ? new UserIndexUpkeep({ ...resolved, userKey }, store.userIndex, guard) : undefined;
  const lifecycle = new Lifecycle({ options: resolved, store, serializer, events, guard, users: upkeep });
  const users = new UserSessions(resolved, store, serializer, guard);
  const exchange = new CookieExchange(lifecycle, resolved, events);

  // Written with `then` rather than `await`: a request that needs no store call (no cookie, nothing
  // to save) goes through without extra promises; a read awaits the store once.
  function qsessionMiddleware(ctx: Context, next: Next): Promise<void> {
    const opened = exchange.open(ctx);
    return opened instanceof Promise ? opened.then((ready) => handle(ctx, next, ready)) : handle(ctx, next, opened);
  }

  function handle(ctx: Context, next: Next, { record, cookie }: Opened): Promise<void> {
    ctx.session = record.session;
    // Koa's own context storage, when the app turned it on, already makes `ctx.session` reachable.
    const koaStorage = ctx.app.ctxStorage;
    if (koaStorage) useKoaStorage(koaStorage);
    const handled = Promise.resolve(koaStorage ? next() : sessionStorage.run(record.session, next));
    return handled.then(
      () => exchange.settle(ctx, record, cookie, false),
      async (error: unknown) => {
        await exchange.settle(ctx, record, cookie, true);
        throw error;
      },
    );
  }

  const middleware = Object.assign(qsessionMiddleware, {
    store,
    events,
    on<E extends keyof SessionEventMap>(event: E, listener: (...args: SessionEventMap[E]) => void) {
      events.on(event, listener as never);
      return middleware;
    },
    close: async () => {
      await store.close?.();
    },
    listUserSessions: (user: UserId) => users.list(user),
    destroyUserSessions: (user: UserId, destroyOptions?: DestroyUserSessionsOptions) => users.destroy(user, destroyOptions),
  });
  return middleware;
}
