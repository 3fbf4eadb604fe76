import { normalizeAddress, UNVERIFIED_ADDRESS } from './address.js';

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
