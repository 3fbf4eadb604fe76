import type { Context, Middleware, Next } from 'koa';
import { resolveOptions } from '../config/resolve.js';
import type { QSessionOptions } from '../config/options.js';
import { createStore } from '../config/store-factory.js';
import { createEvents, type SessionEventMap, type SessionEvents } from '../core/events.js';
import { Lifecycle } from '../core/lifecycle.js';
import type { SessionRecord } from '../core/record.js';
import { boundedStoreCall } from '../core/store-call.js';
import { SessionOptionsError } from '../errors.js';
import { OptionProblems } from '../validate.js';
import type { SessionStore } from '../stores/store.js';
import { UserIndexUpkeep } from '../users/index-upkeep.js';
import { UserSessions, type DestroyUserSessionsOptions, type UserId, type UserSessionInfo } from '../users/user-sessions.js';
import { sessionStorage, useKoaStorage } from './context-storage.js';
import { CookieExchange, type Opened, type CookieState } from './cookie-exchange.js';
import { assertCookieCanBeSent, carryCookieHeaders, claimRequest, isClientErrorAnswer } from './request-guards.js';
import { installSessionProperty } from './session-property.js';

/** The middleware, plus handles on what it owns. */
export interface QSessionMiddleware extends Middleware {
  readonly store: SessionStore;
  readonly events: SessionEvents;
  on<E extends keyof SessionEventMap>(event: E, listener: (...args: SessionEventMap[E]) => void): QSessionMiddleware;
  /** Closes what the store opened itself (a client you passed in stays open). */
  close(): Promise<void>;
  /**
   * Resolves once the store can be reached (Redis: its connection is opened now); rejects with a
   * `SessionStoreError` when it cannot be reached within `storeTimeout`. `await` it before
   * `app.listen()` to fail fast at start-up.
   */
  ready(): Promise<void>;
  /**
   * The user's live sessions (option `userKey`). Throws `SessionUsageError` when `userKey` is off
   * or the store cannot enumerate (no `userIndex`, e.g. memcached).
   */
  listUserSessions(user: UserId): Promise<UserSessionInfo[]>;
  /** Deletes the user's sessions except `except` ("log out my other sessions"); resolves to how many. */
  destroyUserSessions(user: UserId, options?: DestroyUserSessionsOptions): Promise<number>;
}

/**
 * The options and the store they name, checked together: a config with bad options and a bad store
 * option gets one `SessionOptionsError` listing them all. A store made while another option was
 * wrong is closed again (its close never throws here).
 */
function resolveAll(options: QSessionOptions): { resolved: ReturnType<typeof resolveOptions>; store: SessionStore } {
  const problems = new OptionProblems();
  const resolved = problems.take(() => resolveOptions(options));
  const store: SessionStore | undefined = problems.take(() => createStore(options));
  if (problems.count > 0) {
    store?.close?.().catch(() => undefined);
    problems.throwIfAny();
  }
  return { resolved, store: store! };
}

/** `app.use(qsession(options))`: server-side sessions, with `session` / `ctx.session` in every handler. */
export function qsession(options: QSessionOptions = {}): QSessionMiddleware {
  const { resolved, store } = resolveAll(options);
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
  const reload = (record: SessionRecord) => lifecycle.reload(record);

  // Written with `then` rather than `await`: a request that needs no store call (no cookie, nothing
  // to save) goes through without extra promises; a read awaits the store once.
  function qsessionMiddleware(ctx: Context, next: Next): Promise<void> {
    claimRequest(ctx, qsessionMiddleware);
    const opened = exchange.open(ctx);
    return opened instanceof Promise ? opened.then((ready) => handle(ctx, next, ready)) : handle(ctx, next, opened);
  }

  function handle(ctx: Context, next: Next, { record, cookie }: Opened): Promise<void> {
    record.reloader = reload;
    installSessionProperty(ctx, record.session);
    // Koa's own context storage, when the app turned it on, already makes the session reachable.
    const koaStorage = ctx.app.ctxStorage;
    if (koaStorage) useKoaStorage(koaStorage);
    const handled = Promise.resolve(koaStorage ? next() : sessionStorage.run(record.session, next));
    return handled.then(
      () => finish(ctx, record, cookie),
      (error: unknown) => fail(ctx, record, cookie, error),
    );
  }

  /** The request is over for the session: later changes are errors, and the next request of it may go. */
  function seal(record: SessionRecord): void {
    record.seal(events);
    lifecycle.release(record);
  }

  /** After the handler: save, set the cookie, then seal the session. */
  function finish(ctx: Context, record: SessionRecord, cookie: CookieState): void | Promise<void> {
    let settled: void | Promise<void>;
    try {
      assertCookieCanBeSent(ctx, record, resolved);
      settled = exchange.settle(ctx, record, cookie, false);
    } catch (error) {
      seal(record);
      throw error;
    }
    if (!(settled instanceof Promise)) {
      seal(record);
      return;
    }
    // Not `finally`: that makes two promises where this makes one.
    return settled.then(
      () => seal(record),
      (error: unknown) => {
        seal(record);
        throw error;
      },
    );
  }

  async function fail(ctx: Context, record: SessionRecord, cookie: CookieState, error: unknown): Promise<never> {
    // A 4xx HttpError is an answer (koa-session commits in `finally` too): its changes are kept.
    // Anything else is a failure: the request's data changes are dropped.
    const answer = isClientErrorAnswer(error);
    try {
      if (answer) assertCookieCanBeSent(ctx, record, resolved);
      await exchange.settle(ctx, record, cookie, !answer);
    } finally {
      seal(record);
    }
    // Koa's error handler removes every header before answering: the cookie goes with the error.
    if (answer) carryCookieHeaders(ctx, error);
    throw error;
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
    // Fail fast at start-up: the store's ready() (Redis connects now), bounded by storeTimeout, any failure a SessionStoreError.
    ready: () => guard('ready', Promise.resolve().then(() => store.ready?.())),
    listUserSessions: (user: UserId) => users.list(user),
    destroyUserSessions: (user: UserId, destroyOptions?: DestroyUserSessionsOptions) => users.destroy(user, destroyOptions),
  });
  return middleware;
}
