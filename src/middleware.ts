import type { Context, Middleware, Next } from 'koa';
import { sessionStorage, useKoaStorage } from './context.js';
import { applyCookieAction, readCookieValue } from './cookie.js';
import { SessionStoreError } from './errors.js';
import { createEvents, type SessionEventMap, type SessionEvents } from './events.js';
import { Lifecycle, type CookieAction } from './lifecycle.js';
import { resolveOptions, type QSessionOptions, type ResolvedOptions } from './options.js';
import { jsonSerializer } from './serializers/json.js';
import type { SessionRecord } from './session.js';
import { createStore } from './stores/index.js';
import type { SessionStore } from './stores/store.js';

/** The middleware, plus handles on what it owns. */
export interface QSessionMiddleware extends Middleware {
  readonly store: SessionStore;
  readonly events: SessionEvents;
  readonly lifecycle: Lifecycle;
  on<E extends keyof SessionEventMap>(event: E, listener: (...args: SessionEventMap[E]) => void): QSessionMiddleware;
  /** Closes what the store opened itself (a client you passed in stays open). */
  close(): Promise<void>;
}

/** `app.use(qsession(options))`: server-side sessions, with `session` / `ctx.session` in every handler. */
export function qsession(options: QSessionOptions = {}): QSessionMiddleware {
  const resolved = resolveOptions(options);
  const store = createStore(options);
  const events = createEvents();
  const lifecycle = new Lifecycle({ options: resolved, store, serializer: options.serializer ?? jsonSerializer, events });

  async function qsessionMiddleware(ctx: Context, next: Next): Promise<void> {
    const record = await openSession(ctx, lifecycle, resolved, events);
    ctx.session = record.session;
    // Koa's own context storage, when the app turned it on, already makes `ctx.session` reachable.
    const koaStorage = ctx.app.ctxStorage;
    if (koaStorage) useKoaStorage(koaStorage);
    try {
      await (koaStorage ? next() : sessionStorage.run(record.session, next));
    } catch (error) {
      await settle(ctx, lifecycle, resolved, events, record, true);
      throw error;
    }
    await settle(ctx, lifecycle, resolved, events, record, false);
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
  });
  return middleware;
}

async function openSession(ctx: Context, lifecycle: Lifecycle, options: ResolvedOptions, events: SessionEvents): Promise<SessionRecord> {
  try {
    return await lifecycle.open(readCookieValue(ctx.get('Cookie'), options.cookie.name));
  } catch (error) {
    await onStoreFailure(ctx, options, events, error);
    return lifecycle.fresh(false);
  }
}

/** Saves (or not) and sets the cookie. On a failed request, store errors must not hide the handler's error. */
async function settle(
  ctx: Context,
  lifecycle: Lifecycle,
  options: ResolvedOptions,
  events: SessionEvents,
  record: SessionRecord,
  failed: boolean,
): Promise<void> {
  let action: CookieAction;
  try {
    action = await lifecycle.commit(record, { failed, isStatic: !failed && isStaticResponse(ctx, options) });
  } catch (error) {
    if (failed) {
      if (error instanceof SessionStoreError) events.emit('store-error', { error });
      return;
    }
    await onStoreFailure(ctx, options, events, error);
    return;
  }
  if (!failed) {
    const expires = record.permanent ? new Date(Date.now() + options.lifetime) : undefined;
    applyCookieAction(ctx, options.cookie, action, expires);
  }
}

/** Applies `onStoreError` to a store failure; anything that is not a store failure is rethrown as is. */
async function onStoreFailure(ctx: Context, options: ResolvedOptions, events: SessionEvents, error: unknown): Promise<void> {
  if (!(error instanceof SessionStoreError)) throw error;
  events.emit('store-error', { error });
  const policy = options.onStoreError;
  if (policy === 'fail') throw error;
  if (typeof policy === 'function') await policy(error, ctx);
}

/** File streams (koa-static, koa-send) and whatever `isStatic` marks, unless `staticFile` is on. */
function isStaticResponse(ctx: Context, options: ResolvedOptions): boolean {
  if (options.staticFile) return false;
  const body = ctx.body as { pipe?: unknown; path?: unknown } | null | undefined;
  if (body && typeof body === 'object' && typeof body.pipe === 'function' && typeof body.path === 'string') return true;
  return options.isStatic?.(ctx) === true;
}
