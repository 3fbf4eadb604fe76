import type { Context } from 'koa';
import type { CookieDecision } from '../core/lifecycle.js';
import type { ResolvedCookieOptions } from '../config/options.js';
import type { Signer } from '../core/signing.js';

/** Longest cookie value looked at; anything longer cannot be one of our ids and is ignored unread. */
const MAX_VALUE_LENGTH = 256;

/** What `ctx.cookies` (Koa's instance of the `cookies` package) offers for reading. */
export interface CookieReader {
  get(name: string, options: { signed: boolean }): string | undefined;
}

/**
 * The session cookie's value, read through Koa's `ctx.cookies`, or undefined. When the name
 * appears more than once, the first wins: browsers list the cookie with the longest path first
 * (RFC 6265 5.4). `signed: false` because the signature, when there is one, is ours (signing.ts),
 * not Keygrip's `.sig` cookie, whatever `app.keys` holds.
 *
 * Why `ctx.cookies` and not a parser of our own (there was one): the same cookie rules on the way
 * in as on the way out (the response side already goes through `ctx.cookies.set`), and one fewer
 * parser to keep right. It costs nothing measurable: in a Koa app served through light-my-request
 * (Node 24, this machine, median of 5 x 10,000 requests with a four-cookie header) a request took
 * 108 µs with the own parser and 112 µs through ctx.cookies, within the run-to-run noise (a
 * handler reading no cookie at all ranged 95 to 216 µs); the read alone is 0.1 to 0.5 µs either way.
 */
export function readCookieValue(cookies: CookieReader, name: string): string | undefined {
  const raw = cookies.get(name, { signed: false });
  if (raw === undefined) return undefined;
  // `cookies` keeps the optional whitespace before a `;`; an id never contains any.
  const value = raw.trim();
  return value.length <= MAX_VALUE_LENGTH ? value : '';
}

/** What `ctx.cookies.set` takes besides the value, as far as this package sets it. */
type CookieAttributes = Record<string, unknown> & { expires?: Date | undefined };

/**
 * Applies the lifecycle's cookie decision to the response through Koa's own `ctx.cookies`. With a
 * signer the value is `id.signature`; every path (new session, rotation re-issue, clearing) comes
 * through here, so all cookies carry the same attributes.
 *
 * The attributes are worked out once per middleware: `cookies` copies every key it is given onto
 * each cookie it makes, so the options left unset (undefined) are not passed at all.
 */
export function cookieWriter(cookie: ResolvedCookieOptions, signer?: Signer): (ctx: Context, action: CookieDecision) => void {
  const given = {
    path: cookie.path,
    domain: cookie.domain,
    httpOnly: cookie.httpOnly,
    sameSite: cookie.sameSite,
    // With `secure: 'auto'` it is decided per request, below.
    partitioned: cookie.secure === 'auto' ? undefined : cookie.partitioned,
    priority: cookie.priority,
    signed: false,
    overwrite: true,
  };
  // A new object rather than `delete`, which would leave V8 a slow dictionary to copy on every request.
  const fixed: CookieAttributes = Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined));
  // `secure` is always passed: left out, `cookies` would decide it from the request's protocol.
  const secureFor = cookie.secure === 'auto' ? (ctx: Context) => ctx.secure : () => cookie.secure as boolean;
  // Browsers drop a Partitioned cookie that is not Secure: with 'auto' over plain HTTP (local
  // development) the cookie goes unpartitioned, and it is kept. (`secure: false` with
  // `partitioned` is refused at start-up.)
  const attributes = cookie.secure === 'auto' && cookie.partitioned
    ? (ctx: Context, expires: Date | undefined): CookieAttributes => {
        const secure = ctx.secure;
        return secure ? { ...fixed, secure, partitioned: true, expires } : { ...fixed, secure, expires };
      }
    : (ctx: Context, expires: Date | undefined): CookieAttributes => ({ ...fixed, secure: secureFor(ctx), expires });
  const warnAppKeys = signer === undefined ? appKeysWarning() : undefined;
  return (ctx, action) => {
    if (action.kind === 'none') return;
    if (action.kind === 'set') {
      warnAppKeys?.(ctx);
      // The value is at most an id, a dot and a signature; resolveOptions checked at start-up that
      // with this name, path and domain the cookie stays under MAX_COOKIE_BYTES.
      const value = signer ? signer.sign(action.id) : action.id;
      ctx.cookies.set(cookie.name, value, attributes(ctx, action.expires));
    } else ctx.cookies.set(cookie.name, null, attributes(ctx, new Date(0)));
  };
}

/**
 * koa-session signs its cookie with `app.keys`; this package signs only with its own `keys` option
 * (its signature is Quart / Flask's, which `app.keys` cannot make: Keygrip's `.sig` cookie is
 * another scheme, and app.keys may be shorter than the 16 bytes `keys` requires). An app that set
 * `app.keys` and no `keys` most likely expects signed cookies: say so once, at the first cookie.
 */
function appKeysWarning(): (ctx: Context) => void {
  let checked = false;
  return (ctx) => {
    if (checked) return;
    checked = true;
    const keys: unknown = (ctx.app as { keys?: unknown } | undefined)?.keys;
    if (!Array.isArray(keys) || keys.length === 0) return;
    process.emitWarning(
      'koa-qsession: app.keys is set but the session cookie is not signed: koa-qsession signs with its own ' +
        '`keys` option (Quart / Flask\'s signature, each key at least 16 bytes), not app.keys. Pass ' +
        '`qsession({ keys: app.keys })` to sign it (rotating app.keys then rotates the session signature too).',
      { code: 'QSESSION_APP_KEYS_UNUSED' },
    );
  };
}
