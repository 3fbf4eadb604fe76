import type { StoredValue } from '../stored-value.js';

/**
 * Turns the session's dictionary into what the store keeps, and back. The dictionary includes
 * Quart-Session's metadata keys (`_permanent`, `_addr`) exactly as Quart writes them.
 *
 * `dumps` throws `SessionSerializationError` (naming the key path) for a value it cannot represent;
 * `loads` throws anything for a value it cannot read (the core then starts a fresh session with a
 * new id, leaves the entry alone and emits `decode-error`).
 */
export interface Serializer {
  readonly name: string;
  dumps(data: Record<string, unknown>): StoredValue;
  loads(stored: StoredValue): Record<string, unknown>;
  /**
   * Optional one-time work (compiling, warming up), called when the middleware is created so the
   * first request does not pay for it. Must be cheap when called again.
   */
  prepare?(): void;
}

/**
 * A serializer whose stored form is a text object of independent members (tagged JSON, JSON). The
 * core then works one key at a time: a load splits the stored text without decoding it, a value is
 * decoded when first read, and a save writes every member the request did not change as its stored
 * text, byte for byte. Serializers without it (v8) are decoded and encoded whole.
 *
 * Invariant: `assemble(entries(x)) === x` for any `x` that `dumps` writes (and, for tagged JSON,
 * any `x` Python's `TaggedJSONSerializer` writes).
 */
export interface KeyedSerializer extends Serializer {
  /**
   * The members of a stored top-level object, in stored order, each value as its exact source text.
   * A duplicated key keeps its last value at its first position. Throws on anything but an object.
   */
  entries(stored: StoredValue): Array<[key: string, raw: string]>;
  /** One member's value from its text (as `loads` would have decoded it inside the whole). */
  decodeValue(raw: string): unknown;
  /** One member's value as text, exactly as `dumps` writes it inside the whole; errors name `key`. */
  encodeValue(value: unknown, key: string): string;
  /** The stored form of these members, exactly as `dumps` would write the dict they make up. */
  assemble(entries: Iterable<readonly [key: string, raw: string]>): StoredValue;
}

export function isKeyed(serializer: Serializer): serializer is KeyedSerializer {
  const candidate = serializer as Partial<KeyedSerializer>;
  return typeof candidate.entries === 'function' && typeof candidate.decodeValue === 'function' &&
    typeof candidate.encodeValue === 'function' && typeof candidate.assemble === 'function';
}
