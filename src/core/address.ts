import { isIP } from 'node:net';

import type { PinningMode } from '../config/options.js';

/** Longest address text looked at: the longest IPv6 text with a zone id fits easily. */
export const MAX_ADDRESS_LENGTH = 64;

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
  if (family === 4) return a.slice(0, a.lastIndexOf('.')) === b.slice(0, b.lastIndexOf('.'));
  const [x, y] = [expandIPv6(a), expandIPv6(b)];
  return x !== undefined && y !== undefined && x.slice(0, 4).every((g, i) => g === y[i]);
}
