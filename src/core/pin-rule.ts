import { normalizeAddress } from './address.js';

/**
 * The stored `_addr` in the form pinning compares, or undefined when it cannot be compared.
 *
 * koa-qsession only ever stores one normalised IP address (or `unknown`, for a socket that had no
 * address). Anything else was written by another app by another rule: Quart-Session stores the raw
 * X-Forwarded-For text in its proxy mode (`"1.2.3.4, 10.0.0.1"`), which no single client address
 * equals. Such a pin is not compared, and it is left as it is, since the Quart app checks it by its own
 * rule. See docs/python-interop-pinning.md.
 */
export function comparablePin(pinned: unknown): string | undefined {
  if (typeof pinned !== 'string') return undefined;
  if (pinned === 'unknown') return pinned;
  return normalizeAddress(pinned);
}
