import type { Context } from 'koa';
import type { ClientAddressOptions } from '../config/options.js';
import { MAX_ADDRESS_LENGTH, normalizeAddress, UNVERIFIED_ADDRESS } from '../core/address.js';

/** Used when not even the socket has an address (a destroyed socket): compares equal only to itself. */
const UNKNOWN = 'unknown';

/**
 * The client's address for session pinning, normalised (see `normalizeAddress`). Never throws.
 * With `reverseProxy`, a chain shorter than `proxyHops` (or no IP address at the client's place in
 * it) is `UNVERIFIED_ADDRESS`, never the socket address: the socket is the proxy, shared by everyone,
 * so falling back to it would let a thief who sends no X-Forwarded-For pass. It matches no session.
 */
export function clientAddress(ctx: Context, options: ClientAddressOptions): string {
  const socket = (): string => normalizeAddress(ctx.req.socket.remoteAddress) ?? UNKNOWN;
  if (options.getClientIp) return normalizeAddress(options.getClientIp(ctx)) ?? socket();
  if (options.reverseProxy) return normalizeAddress(forwardedFor(ctx.get('X-Forwarded-For'), options.proxyHops)) ?? UNVERIFIED_ADDRESS;
  // Koa's own view: honours app.proxy, app.proxyIpHeader and app.maxIpsCount.
  return normalizeAddress(ctx.ip) ?? socket();
}

/**
 * The entry `hops` places from the right of an X-Forwarded-For header. Each trusted proxy appends
 * the address it received the request from, so with one proxy the rightmost entry is the client;
 * entries further left were written by the client and prove nothing. Walks from the right only
 * `hops` commas, so a huge header costs no more than a short one. Fewer entries than hops: undefined.
 */
export function forwardedFor(header: string, hops: number): string | undefined {
  if (!header) return undefined;
  let end = header.length;
  for (let seen = 1; seen < hops; seen++) {
    if (end === 0) return undefined;
    const comma = header.lastIndexOf(',', end - 1);
    if (comma === -1) return undefined;
    end = comma;
  }
  const start = header.lastIndexOf(',', end - 1) + 1;
  if (end - start > MAX_ADDRESS_LENGTH + 8) return undefined;
  return header.slice(start, end).trim();
}
