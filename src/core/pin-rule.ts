import type { PinningMode } from '../config/options.js';
import { normalizeAddress, sameClient, UNVERIFIED_ADDRESS } from './address.js';

/**
 * The stored `_addr` in the form pinning compares, or undefined when it cannot be compared.
 *
 * koa-qsession only ever stores one normalised IP address, `unknown` (a socket that had no address)
 * or `unverified` (an X-Forwarded-For chain shorter than `proxyHops`: it matches no address, itself
 * included, so pinning fails closed). Anything else was written by another app by another rule: Quart-Session stores the raw
 * X-Forwarded-For text in its proxy mode (`"1.2.3.4, 10.0.0.1"`), which no single client address
 * equals. Such a pin is not compared, and it is left as it is, since the Quart app checks it by its own
 * rule. See docs/python-interop-pinning.md.
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
  /** The raw X-Forwarded-For header, for pins a Quart-Session app wrote in its proxy mode. */
  readonly forwardedFor?: string;
}

/**
 * Whether the stored `_addr` admits this request. The one place the lifecycle asks; the rules of
 * other apps' pins live here too.
 */
export function pinMatches(pinned: unknown, request: PinRequest, mode: PinningMode): boolean {
  const comparable = comparablePin(pinned);
  if (comparable === undefined) return true;
  return sameClient(comparable, request.address, mode);
}
