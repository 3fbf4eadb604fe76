import type { Context } from 'koa';
import { isIP } from 'node:net';

/** How pinned addresses are compared: the exact address, or its IPv4 /24 / IPv6 /64 network. */
export type PinningMode = 'exact' | 'subnet';

export interface ClientAddressOptions {
  /** Read X-Forwarded-For counting `proxyHops` trusted proxies from the right (Quart: SESSION_HIJACK_REVERSE_PROXY). */
  readonly reverseProxy: boolean;
  readonly proxyHops: number;
  /** Overrides everything else; a value that is not an IP address falls back to the socket address. */
  readonly getClientIp: ((ctx: Context) => string | undefined) | undefined;
}

/** Longest address text looked at: the longest IPv6 text with a zone id fits easily. */
const MAX_ADDRESS_LENGTH = 64;
/** Used when not even the socket has an address (a destroyed socket): compares equal only to itself. */
const UNKNOWN = 'unknown';

/**
 * The client's address for session pinning, normalised (see `normalizeAddress`). Never throws: any
 * value that is not an IP address falls back to the socket's own address.
 */
export function clientAddress(ctx: Context, options: ClientAddressOptions): string {
  const socket = (): string => normalizeAddress(ctx.req.socket.remoteAddress) ?? UNKNOWN;
  if (options.getClientIp) return normalizeAddress(options.getClientIp(ctx)) ?? socket();
  if (options.reverseProxy) return normalizeAddress(forwardedFor(ctx.get('X-Forwarded-For'), options.proxyHops)) ?? socket();
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

/**
 * A canonical text for an IP address, or undefined when `raw` is not one. IPv4-mapped IPv6
 * (`::ffff:1.2.3.4`) becomes `1.2.3.4`; IPv6 is lower-case, zero-compressed (RFC 5952) and loses
 * any zone id, so two spellings of one address compare equal.
 */
export function normalizeAddress(raw: string | undefined | null): string | undefined {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_ADDRESS_LENGTH) return undefined;
  const text = raw.trim();
  const family = isIP(text);
  if (family === 4) return text;
  if (family !== 6) return undefined;
  const groups = expandIPv6(text);
  if (groups === undefined) return undefined;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  }
  return compressIPv6(groups);
}

/** Eight 16-bit groups of an IPv6 address (already checked by `isIP`), or undefined. */
export function expandIPv6(address: string): number[] | undefined {
  let text = address.toLowerCase();
  const zone = text.indexOf('%');
  if (zone !== -1) text = text.slice(0, zone);
  // A dotted IPv4 tail (::ffff:1.2.3.4, 64:ff9b::1.2.3.4) stands for the last two groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const octets = tail.split('.').map(Number);
    if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) return undefined;
    text = `${text.slice(0, lastColon + 1)}${((octets[0]! << 8) | octets[1]!).toString(16)}:${((octets[2]! << 8) | octets[3]!).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string | undefined): number[] => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const head = parse(halves[0]);
  const rest = parse(halves[1]);
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...rest];
  return groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

/** RFC 5952 text: the longest run of two or more zero groups (leftmost on a tie) becomes `::`. */
function compressIPv6(groups: number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** Whether two normalised addresses are the same client under `mode`. */
export function sameClient(a: string, b: string, mode: PinningMode): boolean {
  if (a === b) return true;
  if (mode === 'exact') return false;
  const family = isIP(a);
  if (family !== isIP(b) || family === 0) return false;
  if (family === 4) return a.slice(0, a.lastIndexOf('.')) === b.slice(0, b.lastIndexOf('.'));
  const [x, y] = [expandIPv6(a), expandIPv6(b)];
  return x !== undefined && y !== undefined && x.slice(0, 4).every((g, i) => g === y[i]);
}
