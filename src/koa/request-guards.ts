import type { Context } from 'koa';
import type { ResolvedOptions } from '../config/options.js';
import { willWrite } from '../core/commit.js';
import type { SessionRecord } from '../core/record.js';
import { SessionUsageError } from '../errors.js';

/** Marks a request as handled by a qsession() middleware; registered, so both builds see it. */
const HANDLED_BY = Symbol.for('koa-qsession.handled-by');
type MarkedContext = Context & { [HANDLED_BY]?: unknown };

/**
 * One session middleware per request. A second one (a sub-app mounting its own, or the same one
 * reached twice) would open the session again from the store, hide the first one's changes from the
 * handler and save over them: refuse it loudly instead.
 */
export function claimRequest(ctx: Context, middleware: unknown): void {
  const marked = ctx as MarkedContext;
  const owner = marked[HANDLED_BY];
  if (owner !== undefined) {
    throw new SessionUsageError(
      owner === middleware
        ? 'the same qsession() middleware ran twice on one request (app.use() of it reached twice, e.g. in an app ' +
            'and in a sub-app mounted into it): use it once, in the outermost app'
        : 'two qsession() middlewares ran on one request (a sub-app mounting its own?): keep the one in the ' +
            'outermost app; `session` and `ctx.session` reach mounted sub-apps and routers from there',
    );
  }
  marked[HANDLED_BY] = middleware;
}

/**
 * A thrown 4xx HTTP error (`ctx.throw(401)`, http-errors, `err.status` 400-499) is an answer to the
 * client, not a crash: the session changes made before it are saved, as koa-session does. 5xx and
 * errors without a status are failures: their changes are dropped.
 */
export function isClientErrorAnswer(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  const { status, statusCode } = error as { status?: unknown; statusCode?: unknown };
  const code = status ?? statusCode;
  return typeof code === 'number' && Number.isInteger(code) && code >= 400 && code <= 499;
}

/**
 * Koa's error handler clears every response header before answering an error, and then sets the
 * error's own `headers`: the session cookie (and `Vary: Cookie`) are added there so they survive.
 */
export function carryCookieHeaders(ctx: Context, error: unknown): void {
  const cookies = ctx.response.get('Set-Cookie') as unknown;
  const lines = Array.isArray(cookies) ? (cookies as string[]) : typeof cookies === 'string' && cookies !== '' ? [cookies] : [];
  if (lines.length === 0 || error === null || typeof error !== 'object') return;
  const target = error as { headers?: Record<string, unknown> };
  try {
    const headers: Record<string, unknown> = target.headers !== null && typeof target.headers === 'object' ? { ...target.headers } : {};
    const ownName = Object.keys(headers).find((name) => name.toLowerCase() === 'set-cookie');
    const own = ownName === undefined ? [] : ([] as unknown[]).concat(headers[ownName]).map(String);
    if (ownName !== undefined) delete headers[ownName];
    headers['Set-Cookie'] = [...own, ...lines];
    const vary = ctx.response.get('Vary');
    if (vary && !Object.keys(headers).some((name) => name.toLowerCase() === 'vary')) headers.Vary = vary;
    target.headers = headers;
  } catch {
    // A frozen error object: the answer goes out without the cookie, as before.
  }
}

/**
 * `cookie.secure: true` on a request that came over plain HTTP: the `cookies` package refuses to set
 * the cookie, which used to happen after the session had been stored (an orphaned entry and a bare
 * 500). Checked before anything is stored, and only when the request would write or send something.
 */
export function assertCookieCanBeSent(ctx: Context, record: SessionRecord, options: ResolvedOptions): void {
  if (options.cookie.secure !== true || ctx.secure) return;
  if (!willWrite(record) && !record.staleCookie && !(options.rolling && !record.isNew)) return;
  throw new SessionUsageError(
    'cookie.secure is true but this request came over plain HTTP (ctx.secure is false), so the session cookie ' +
      'cannot be sent; nothing was stored. Behind a proxy that terminates TLS set `app.proxy = true` (Koa then ' +
      "trusts X-Forwarded-Proto), or use `cookie: { secure: 'auto' }` to send a Secure cookie only over HTTPS",
  );
}
