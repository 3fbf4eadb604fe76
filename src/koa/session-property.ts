import Koa, { type Context } from 'koa';
import { attachRequest } from '../core/facade.js';
import type { Session } from '../core/types.js';
import { SessionUsageError } from '../errors.js';
import { CTX_SESSION, findSession, outsideRequestError, session as globalSession } from './context-storage.js';

type SessionContext = Context & { [CTX_SESSION]?: Session };

/**
 * `ctx.session`, with koa-session's semantics:
 * - on a context qsession() has not reached (it is mounted after the router, or not at all) reading
 *   it is the global `session`'s SessionUsageError, not a bare `undefined` and a TypeError later.
 * - reading it gives the request's session. Inside the request's own async context that is the
 *   global `session` object itself, so `ctx.session === session` holds as the README says; anywhere
 *   else (a `ctx` kept past its request and read from another request's context) it is the request's
 *   own session object, never whatever request happens to be current.
 * - `ctx.session = null` destroys the session (koa-session's logout): deleted from the store when
 *   the request ends, cookie cleared.
 * - `ctx.session = { ... }` replaces the data with that object's own keys (an empty object empties
 *   the session, which deletes it).
 * - anything else is a `SessionUsageError`, as in koa-session.
 */
const descriptor: PropertyDescriptor & ThisType<SessionContext> = {
  configurable: true,
  enumerable: true,
  get(): Session {
    const own = this[CTX_SESSION];
    if (own === undefined) throw outsideRequestError();
    return findSession() === own ? globalSession : own;
  },
  set(value: unknown) {
    const own = this[CTX_SESSION];
    if (own === undefined) {
      // A context qsession() never saw (the accessor sits on `app.context`, shared by every request
      // of the app): an ordinary property, as if the accessor were not there.
      Object.defineProperty(this, 'session', { value, writable: true, enumerable: true, configurable: true });
      return;
    }
    if (value === null) {
      own.destroy();
      return;
    }
    // `ctx.session = ctx.session` (or `= session`) changes nothing.
    if (value === own || value === globalSession) return;
    if (!isPlainObject(value)) {
      throw new SessionUsageError(
        `ctx.session can only be set to null (destroy the session) or a plain object (replace its data); got ${describeValue(value)}`,
      );
    }
    own.clear();
    for (const key of Object.keys(value)) own.set(key, value[key]);
  },
};

/** Gives this request's `ctx` its `session` accessor over `facade`. */
export function installSessionProperty(ctx: Context, facade: Session): void {
  (ctx as SessionContext)[CTX_SESSION] = facade;
  attachRequest(facade, ctx); // for reports only (a change after the response names the route)
  // Once per app, on the prototype every `ctx` of the app inherits from: a property defined on each
  // context would cost every request (V8 turns such objects into slow dictionaries).
  const shared = (ctx.app as { context?: object } | undefined)?.context;
  if (shared !== undefined && Object.getPrototypeOf(ctx) === shared) {
    if (!withAccessor.has(shared)) {
      Object.defineProperty(shared, 'session', descriptor);
      withAccessor.add(shared);
    }
    return;
  }
  // A context that is not the app's own (a mounted app's request, a hand-made ctx): on the context.
  Object.defineProperty(ctx, 'session', descriptor);
}

/** The `app.context` objects that carry the accessor already. */
const withAccessor = new WeakSet<object>();

/**
 * On the context every Koa app of this Koa copy inherits from (each `app.context` is made from it),
 * as soon as koa-qsession is loaded: a route reached before qsession() (mounted after the router)
 * then gets the SessionUsageError even on the app's first request, before any request has reached
 * qsession(). Not enumerable: code listing a context's properties in an app without sessions must
 * not meet a getter that throws. An app on another copy of Koa gets the accessor on its
 * `app.context` at its first request (installSessionProperty), as before.
 */
function installOnKoaContext(): void {
  const base: unknown = Object.getPrototypeOf(new Koa().context);
  if (base === null || typeof base !== 'object' || Object.hasOwn(base, 'session')) return;
  Object.defineProperty(base, 'session', { ...descriptor, enumerable: false });
}
installOnKoaContext();

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `an instance of ${(value as object).constructor?.name ?? 'a class'}`;
  return `a ${typeof value}`;
}
