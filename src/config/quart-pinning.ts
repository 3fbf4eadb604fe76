import { SessionOptionsError } from '../errors.js';

/**
 * How a Quart-Session app sharing the store fills `_addr` (it writes one into every new session,
 * pinning on or off): `'socket'`, the socket's address (`request.remote_addr`), or
 * `'forwarded-for'`, the raw X-Forwarded-For text (its SESSION_REVERSE_PROXY mode).
 */
export type QuartPinning = 'socket' | 'forwarded-for';

interface PinningInputs {
  readonly quartPinning?: unknown;
  readonly hijackProtection?: unknown;
  readonly reverseProxy?: unknown;
  readonly getClientIp?: unknown;
}

/**
 * Validates `quartPinning`. With pinning on, this app and the Quart app must take the address from
 * the same place, or a `_addr` one wrote means something else to the other (a proxy's address
 * against a client's): every shared session would be deleted as a mismatch, or never checked.
 * That is refused at start-up. A `getClientIp` of your own is taken to follow the Quart app's rule.
 */
export function resolveQuartPinning(options: PinningInputs): QuartPinning | undefined {
  const value = options.quartPinning;
  if (value === undefined) return undefined;
  if (value !== 'socket' && value !== 'forwarded-for') {
    throw new SessionOptionsError('quartPinning', `must be "socket" or "forwarded-for" (got ${typeof value === 'string' ? JSON.stringify(value) : String(value)})`);
  }
  if (options.hijackProtection === true && options.getClientIp === undefined) {
    const ours: QuartPinning = options.reverseProxy === true ? 'forwarded-for' : 'socket';
    if (ours !== value) {
      const theirs = value === 'socket' ? 'the socket address' : 'X-Forwarded-For';
      const mine = ours === 'socket' ? 'the socket address (reverseProxy off)' : 'X-Forwarded-For (reverseProxy on)';
      throw new SessionOptionsError('quartPinning', `says the Quart app pins by ${theirs} but this app pins by ${mine}: the two would read each other's _addr as a mismatch. Set reverseProxy to match (SESSION_REVERSE_PROXY), or leave quartPinning unset if no Quart app writes to this store`);
    }
  }
  return value;
}
