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
 * in as on the way out (the response side writes the Set-Cookie line `ctx.cookies.set` writes, see
 * `cookieWriter`), and one fewer parser to keep right. It costs nothing measurable: in a Koa app served through light-my-request
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

/**
 * Applies the lifecycle's cookie decision to the response. With a signer the value is `id.signature`;
 * every path (new session, rotation re-issue, clearing) comes through here, so all cookies carry the
 * same attributes.
 *
 * The Set-Cookie line is the one the `cookies` package (Koa's `ctx.cookies`) writes, attribute for
 * attribute and in its order, with its `overwrite` rule (an earlier Set-Cookie of this name in the
 * response is replaced), but built here: the attributes that never change are one string made once
 * per middleware, and the `Expires` date is formatted once per second, not once per response
 * (`cookies` made a Cookie object and formatted every attribute on each call: about 1 µs a write).
 * `cookie.secure: true` over plain HTTP never gets here (request-guards.ts refuses it first).
 */
export function cookieWriter(cookie: ResolvedCookieOptions, signer?: Signer): (ctx: Context, action: CookieDecision) => void {
  const prefix = `${cookie.name}=`;
  const path = `; path=${cookie.path}`;
  const middle =
    (cookie.domain ? `; domain=${cookie.domain}` : '') +
    (cookie.priority ? `; priority=${cookie.priority}` : '') +
    (cookie.sameSite ? `; samesite=${cookie.sameSite}` : '');
  const httpOnly = cookie.httpOnly ? '; httponly' : '';
  // Browsers drop a Partitioned cookie that is not Secure: with 'auto' over plain HTTP (local
  // development) the cookie goes unpartitioned, and it is kept. (`secure: false` with
  // `partitioned` is refused at start-up.)
  const ending = (secure: boolean): string => (secure ? '; secure' : '') + httpOnly + (secure && cookie.partitioned ? '; partitioned' : '');
  const secureEnding = ending(true);
  const plainEnding = ending(false);
  const endingFor = cookie.secure === 'auto' ? (ctx: Context) => (ctx.secure ? secureEnding : plainEnding) : () => (cookie.secure ? secureEnding : plainEnding);
  const expiresText = httpDateCache();
  const warnAppKeys = signer === undefined ? appKeysWarning() : undefined;
  return (ctx, action) => {
    if (action.kind === 'none') return;
    let line: string;
    if (action.kind === 'set') {
      warnAppKeys?.(ctx);
      // The value is at most an id, a dot and a signature; resolveOptions checked at start-up that
      // with this name, path and domain the cookie stays under MAX_COOKIE_BYTES.
      const value = signer ? signer.sign(action.id) : action.id;
      const expires = action.expires ? `; expires=${expiresText(action.expires.getTime())}` : '';
      line = prefix + value + path + expires + middle + endingFor(ctx);
    } else line = `${prefix}${path}; expires=${EPOCH}${middle}${endingFor(ctx)}`;
    setCookieLine(ctx, prefix, line);
  };
}

const EPOCH = new Date(0).toUTCString();

/** `Date#toUTCString()` of a time, computed once per second of the times asked for. */
function httpDateCache(): (ms: number) => string {
  let second = NaN;
  let text = '';
  return (ms) => {
    const at = Math.floor(ms / 1000);
    if (at !== second) {
      second = at;
      text = new Date(at * 1000).toUTCString();
    }
    return text;
  };
}

/** Adds `line` to the response's Set-Cookie header, replacing one for the same name (`cookies`' overwrite). */
function setCookieLine(ctx: Context, prefix: string, line: string): void {
  const res = ctx.res;
  const current = res.getHeader('Set-Cookie');
  if (current === undefined) {
    res.setHeader('Set-Cookie', [line]);
    return;
  }
  const lines = (Array.isArray(current) ? current : [String(current)]).filter((other) => !other.startsWith(prefix));
  lines.push(line);
  res.setHeader('Set-Cookie', lines);
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
