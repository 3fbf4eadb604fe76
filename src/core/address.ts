import { BlockList, isIP } from 'node:net';

import type { PinningMode } from '../config/options.js';

/** Longest address text looked at: the longest IPv6 text with a zone id fits easily. */
export const MAX_ADDRESS_LENGTH = 64;

/** The IPv4-mapped IPv6 range (`::ffff:0:0/96`): such an address is its IPv4 client. */
const MAPPED = new BlockList();
MAPPED.addSubnet('::ffff:0:0', 96, 'ipv6');


/**
 * A canonical text for an IP address, or undefined when `raw` is not one. IPv4-mapped IPv6
 * (`::ffff:1.2.3.4`) becomes `1.2.3.4`; IPv6 is lower-case, zero-compressed (RFC 5952) and loses
 * any zone id, so two spellings of one address compare equal.
 *
 * Node's `isIP` decides what is an address. The canonical IPv6 text is the WHATWG URL parser's
 * (lower-case, the first longest run of two or more zero groups as `::`, as RFC 5952 says): unlike
 * `net.SocketAddress`, which Bun leaves as written, it is the same text on every runtime we support.
 */
export function normalizeAddress(raw: string | undefined | null): string | undefined {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_ADDRESS_LENGTH) return undefined;
  const text = raw.trim();
  const family = isIP(text);
  if (family === 4) return text;
  if (family !== 6) return undefined;
  const address = withoutZone(text);
  let canonical: string;
  try {
    canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return undefined; // isIP said IPv6 and the URL parser disagrees: not an address we can pin by
  }
  return MAPPED.check(canonical, 'ipv6') ? mappedIPv4(canonical) : canonical;
}

/**
 * The IPv4 address inside a canonical IPv4-mapped text. Its first five groups are zero, the longest
 * zero run, so the canonical text is always `::ffff:<hi>:<lo>`.
 */
function mappedIPv4(canonical: string): string | undefined {
  const groups = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (!groups) return undefined;
  const [high, low] = [parseInt(groups[1]!, 16), parseInt(groups[2]!, 16)];
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

/** A zone id (`fe80::1%eth0`) names an interface of the host, not part of the client's address. */
function withoutZone(address: string): string {
  const zone = address.indexOf('%');
  return zone === -1 ? address : address.slice(0, zone);
}

/**
 * The address of a request whose X-Forwarded-For chain could not be trusted (fewer entries than
 * `proxyHops`, or not an IP address where the client's should be). Not an IP, so it never looks like
 * one, and `sameClient` never matches it, not even with itself: pinning fails closed.
 */
export const UNVERIFIED_ADDRESS = 'unverified';

/** Whether two normalised addresses are the same client under `mode`. */
export function sameClient(a: string, b: string, mode: PinningMode): boolean {
  if (a === UNVERIFIED_ADDRESS || b === UNVERIFIED_ADDRESS) return false;
  if (a === b) return true;
  if (mode === 'exact') return false;
  const family = isIP(a);
  if (family !== isIP(b) || family === 0) return false;
  // `subnet` compares a /24 of IPv4, a /64 of IPv6.
  const [type, prefix] = family === 4 ? (['ipv4', 24] as const) : (['ipv6', 64] as const);
  // A one-rule BlockList per comparison: Node matches the prefix on the parsed bytes.
  const subnet = new BlockList();
  try {
    subnet.addSubnet(withoutZone(a), prefix, type);
    return subnet.check(withoutZone(b), type);
  } catch {
    return false; // an address Node's parser refuses matches nothing
  }
}
