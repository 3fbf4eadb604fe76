import type { CookieDecision } from '../../src/internal.js';

/** A cookie decision without its expiry (a moving timestamp), for exact comparisons. */
export function withoutExpiry(decision: CookieDecision): { kind: string; id?: string } {
  if (decision.kind !== 'set') return decision;
  return { kind: decision.kind, id: decision.id };
}
