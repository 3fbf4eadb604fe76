/** Quart-Session's metadata rules: the keys it keeps in the stored dict beside the data. */

export { METADATA_KEYS } from '../serializers/session-text.js';
import { METADATA_KEYS } from '../serializers/session-text.js';

/** A session's idle lifetime in ms: its stored `_lifetime` (seconds) when valid, else `fallback`. */
export function lifetimeOf(metadata: Record<string, unknown>, fallback: number): number {
  const seconds = metadata._lifetime;
  return typeof seconds === 'number' && seconds > 0 && Number.isFinite(seconds) ? Math.ceil(seconds * 1000) : fallback;
}

/** A stored dict split into the handler's data and the metadata keys (both null-prototype). */
export function splitStored(dict: Record<string, unknown>): { data: Record<string, unknown>; metadata: Record<string, unknown> } {
  const data: Record<string, unknown> = Object.create(null);
  const metadata: Record<string, unknown> = Object.create(null);
  for (const name of Object.keys(dict)) (METADATA_KEYS.has(name) ? metadata : data)[name] = dict[name];
  return { data, metadata };
}

/**
 * Whether a session created at `created` (Unix seconds, the stored `_created`) is past `maxAge` ms.
 * No `_created` yet (stored before `maxAge` was on) is not past; one that is not a number is.
 */
export function pastMaxAge(created: unknown, maxAge: number): boolean {
  if (created === undefined) return false;
  return typeof created !== 'number' || !(created * 1000 + maxAge > Date.now());
}

/** A metadata value of a session; one that does not decode reads as INVALID (not a string, not a number). */
export function metaOf(record: { meta(key: string): unknown }, key: string): unknown {
  try {
    return record.meta(key);
  } catch {
    return INVALID;
  }
}
const INVALID = Symbol('invalid');

/** Unix seconds like Python's time.time(), to the millisecond (the stored `_created`). */
export function nowSeconds(): number {
  return Date.now() / 1000;
}
