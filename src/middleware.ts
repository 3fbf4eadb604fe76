import type { Context, Middleware, Next } from 'koa';
import { sessionStorage, useKoaStorage } from './context.js';
import { clientAddress } from './client-address.js';
import { applyCookieAction, readCookieValue } from './cookie.js';
import { SessionOptionsError, SessionStoreError } from './errors.js';
import { createEvents, type SessionEventMap, type SessionEvents } from './events.js';
import { Lifecycle, type CookieAction } from './lifecycle.js';
import { resolveOptions, type QSessionOptions, type ResolvedOptions } from './options.js';
import { resolveSerializer } from './serializers/index.js';
import type { SessionRecord } from './session.js';
import { createSigner, type Signer } from './signing.js';
import { createStore } from './stores/index.js';
import type { SessionStore } from './stores/store.js';
import { UserSessions, type DestroyUserSessionsOptions, type UserId, type UserSessionInfo } from './user-sessions.js';

/** The middleware, plus handles on what it owns. */
export interface QSessionMiddleware extends Middleware {
  readonly store: SessionStore;
  readonly events: SessionEvents;
  readonly lifecycle: Lifecycle;
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

/** One request's view of the session cookie. */
interface CookieState {
  /** The request carried the session cookie (valid or not): the response depends on it. */
  readonly present: boolean;
  /** The cookie verified with an older key: re-issue it signed with the first. */
  readonly rotated: boolean;
}

/** `app.use(qsession(options))`: server-side sessions, with `session` / `ctx.session` in every handler. */
export function qsession(options: QSessionOptions = {}): QSessionMiddleware {
  const resolved = resolveOptions(options);
  const store = createStore(options);
  const events = createEvents();
  const serializer = resolveSerializer(options.serializer);
  const lifecycle = new Lifecycle({ options: resolved, store, serializer, events });
  if (resolved.userKey !== undefined && !store.userIndex) {
    throw new SessionOptionsError('userKey', `needs a store that can enumerate a user's sessions; the ${store.name} store has no userIndex`);
  }
  const users = new UserSessions(resolved, store, serializer, lifecycle);
  const exchange = new CookieExchange(lifecycle, resolved, events);

  async function qsessionMiddleware(ctx: Context, next: Next): Promise<void> {
    const { record, cookie } = await exchange.open(ctx);
    ctx.session = record.session;
    // Koa's own context storage, when the app turned it on, already makes `ctx.session` reachable.
    const koaStorage = ctx.app.ctxStorage;
    if (koaStorage) useKoaStorage(koaStorage);
    try {
      await (koaStorage ? next() : sessionStorage.run(record.session, next));
    } catch (error) {
      await exchange.settle(ctx, record, cookie, true);
      throw error;
    }
    await exchange.settle(ctx, record, cookie, false);
  }

  const middleware = Object.assign(qsessionMiddleware, {
    store,
    events,
    lifecycle,
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

/**
 * Moves values between Koa and the lifecycle: the cookie (and its signature) and the client address
 * in, the cookie decision out, and store failures through `onStoreError`.
 */
class CookieExchange {
  private readonly signer: Signer | undefined;

  constructor(
    private readonly lifecycle: Lifecycle,
    private readonly options: ResolvedOptions,
    private readonly events: SessionEvents,
  ) {
    this.signer = options.keys ? createSigner(options.keys) : undefined;
  }

  async open(ctx: Context): Promise<{ record: SessionRecord; cookie: CookieState }> {
    const raw = readCookieValue(ctx.cookies, this.options.cookie.name);
    let id = raw;
    let rotated = false;
    if (raw !== undefined && this.signer) {
      // A bad signature is an invalid id: a fresh session, no store call.
      const verified = this.signer.unsign(raw);
      id = verified?.id ?? '';
      rotated = verified?.rotated ?? false;
    }
    const cookie = { present: raw !== undefined, rotated };
    // The address is worked out only when pinning is on: no cost otherwise.
    const address = this.options.hijackProtection ? clientAddress(ctx, this.options.client) : undefined;
    try {
      return { record: await this.lifecycle.open(id, { address }), cookie };
    } catch (error) {
      await this.onStoreFailure(ctx, error);
      return { record: this.lifecycle.fresh(false, address), cookie };
    }
  }

  /** Saves (or not) and sets the cookie. On a failed request, store errors must not hide the handler's error. */
  async settle(ctx: Context, record: SessionRecord, cookie: CookieState, failed: boolean): Promise<void> {
    let action: CookieAction;
    const isStatic = !failed && this.isStaticResponse(ctx);
    try {
      action = await this.lifecycle.commit(record, { failed, isStatic });
    } catch (error) {
      if (!failed) await this.onStoreFailure(ctx, error);
      else if (error instanceof SessionStoreError) this.events.emit('store-error', { error });
      return;
    }
    if (failed) return;
    // Rotation: a session still in use under an old key gets its cookie back under the first key.
    if (action.kind === 'none' && cookie.rotated && !record.isNew && !record.destroyed && !isStatic) {
      action = { kind: 'set', id: record.id };
    }
    // Caches must not hand one client's session-dependent response to another.
    if (cookie.present || action.kind !== 'none') ctx.vary('Cookie');
    const expires = () => (record.permanent ? new Date(Date.now() + this.lifecycle.ttlFor(record)) : undefined);
    applyCookieAction(ctx, this.options.cookie, action, expires, this.signer);
  }

  /** Applies `onStoreError` to a store failure; anything that is not a store failure is rethrown as is. */
  private async onStoreFailure(ctx: Context, error: unknown): Promise<void> {
    if (!(error instanceof SessionStoreError)) throw error;
    this.events.emit('store-error', { error });
    const policy = this.options.onStoreError;
    if (policy === 'fail') throw error;
    if (typeof policy === 'function') await policy(error, ctx);
  }

  /** File streams (koa-static, koa-send) and whatever `isStatic` marks, unless `staticFile` is on. */
  private isStaticResponse(ctx: Context): boolean {
    if (this.options.staticFile) return false;
    const body = ctx.body as { pipe?: unknown; path?: unknown } | null | undefined;
    if (body && typeof body === 'object' && typeof body.pipe === 'function' && typeof body.path === 'string') return true;
    return this.options.isStatic?.(ctx) === true;
  }
}
