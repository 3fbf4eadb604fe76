import type { Context } from 'koa';
import type { CookieDecision } from '../core/lifecycle.js';
import type { ResolvedCookieOptions } from '../config/options.js';
import type { Signer } from '../core/signing.js';

/** Longest cookie value looked at; anything longer cannot be one of our ids and is ignored unread. */
const MAX_VALUE_LENGTH = 256;

/**
 * The session cookie's value from a Cookie header, or undefined. When the name appears more than
 * once, the first wins: browsers list the cookie with the longest path first (RFC 6265 5.4).
 */
export function readCookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  const prefix = name + '=';
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(';', start);
    if (end === -1) end = header.length;
    let from = start;
    while (header.charCodeAt(from) === 32 || header.charCodeAt(from) === 9) from++;
    if (header.startsWith(prefix, from)) {
      let value = header.slice(from + prefix.length, end).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      return value.length <= MAX_VALUE_LENGTH ? value : '';
    }
    start = end + 1;
  }
  return undefined;
}

/**
 * Applies the lifecycle's cookie decision to the response through Koa's own `ctx.cookies`. With a
 * signer the value is `id.signature`; every path (new session, rotation re-issue, clearing) comes
 * through here, so all cookies carry the same attributes.
 */
export function applyCookieDecision(ctx: Context, cookie: ResolvedCookieOptions, action: CookieDecision, signer?: Signer): void {
  if (action.kind === 'none') return;
  const attributes = {
    path: cookie.path,
    domain: cookie.domain,
    httpOnly: cookie.httpOnly,
    secure: cookie.secure === 'auto' ? ctx.secure : cookie.secure,
    sameSite: cookie.sameSite,
    partitioned: cookie.partitioned,
    priority: cookie.priority,
    signed: false,
    overwrite: true,
  };
  if (action.kind === 'set') {
    // The value is at most an id, a dot and a signature; resolveOptions checked at start-up that
    // with this name, path and domain the cookie stays under MAX_COOKIE_BYTES.
    const value = signer ? signer.sign(action.id) : action.id;
    ctx.cookies.set(cookie.name, value, { ...attributes, expires: action.expires });
  }
  else ctx.cookies.set(cookie.name, null, { ...attributes, expires: new Date(0) });
}
