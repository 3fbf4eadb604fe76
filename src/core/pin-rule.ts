import type { PinningMode } from '../config/options.js';
import { normalizeAddress, sameClient, UNVERIFIED_ADDRESS } from './address.js';

/**
 * The stored `_addr` as one normalised address, or undefined when it is not one.
 *
 * koa-qsession's own rule stores one normalised IP address, `unknown` (a socket that had no address)
 * or `unverified` (an X-Forwarded-For chain shorter than `proxyHops`: it matches no address, itself
 * included, so pinning fails closed). Anything else was written by another rule: Quart-Session
 * stores the raw X-Forwarded-For text in its proxy mode (`"1.2.3.4, 10.0.0.1"`), which only
 * `pinMatches` with that header can compare. See docs/python-interop-pinning.md.
 */
export function comparablePin(pinned: unknown): string | undefined {
  if (typeof pinned !== 'string') return undefined;
  if (pinned === 'unknown' || pinned === UNVERIFIED_ADDRESS) return pinned;
  return normalizeAddress(pinned);
}

/** What a request offers to be compared with a stored pin. */
export interface PinRequest {
  /** The normalised client address (see koa/client-address.ts). */
  readonly address: string;
  /**
   * The raw X-Forwarded-For header (`''` when absent), given only when a Quart-Session app sharing
   * the store pins by it (`quartPinning: 'forwarded-for'`).
   */
  readonly forwardedFor?: string;
}

/**
 * Longest X-Forwarded-For text written as a pin. A real chain is a few addresses; a longer header is
 * a client padding it, and its text would only bloat the session and the `pin-mismatch` events.
 */
export const MAX_FORWARDED_PIN = 512;

/**
 * Whether the stored `_addr` admits this request. The one place the lifecycle asks; the rules of
 * other apps' pins live here too. A stored pin is never ignored: one this app cannot interpret
 * (not a string, empty, a chain with no header to compare it with) fails closed, and the lifecycle
 * deletes the session as a mismatch.
 *
 * With `forwardedFor` (a Quart app pins by the raw header), a pin equal to the whole header text is
 * Quart's own rule (`data.get('_addr') != X-Forwarded-For` deletes), so both apps keep or refuse the
 * same sessions. Equality of the whole text includes the entries the trusted proxies appended, so it
 * never admits a request that the hop-counted address (`address`) would refuse; an unverified
 * address (a chain shorter than `proxyHops`, or no header at all) admits nothing. A pin that is one
 * IP address (this app's own, written before the header rule, or Quart's from a one-entry header) is
 * also compared by this app's rule, `pinning` mode included.
 */
export function pinMatches(pinned: unknown, request: PinRequest, mode: PinningMode): boolean {
  const { address, forwardedFor } = request;
  if (typeof pinned !== 'string' || pinned.length === 0) return false;
  if (forwardedFor !== undefined) {
    if (address === UNVERIFIED_ADDRESS) return false;
    if (pinned === forwardedFor) return true;
  }
  const comparable = comparablePin(pinned);
  return comparable !== undefined && sameClient(comparable, address, mode);
}

/**
 * The `_addr` to store for a new session (or one adopting a pin), so that every app sharing the store
 * accepts it from this client: this app's normalised address, or, when a Quart app pins by the raw
 * header (`forwardedFor` given), that header's text as Quart writes it. Quart compares the whole text,
 * so a one-address pin would be deleted by it whenever the chain has more than one entry. An
 * unverified address, an empty header or one longer than MAX_FORWARDED_PIN keeps the address: that
 * pin admits nothing here (unverified) or only this app's rule, and Quart deletes it on its next
 * visit, which fails closed.
 */
export function pinToWrite(request: PinRequest): string {
  const { address, forwardedFor } = request;
  if (forwardedFor === undefined || address === UNVERIFIED_ADDRESS) return address;
  if (forwardedFor.length === 0 || forwardedFor.length > MAX_FORWARDED_PIN) return address;
  return forwardedFor;
}
