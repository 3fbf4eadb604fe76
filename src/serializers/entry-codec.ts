import { isKeyed, type KeyedSerializer, type Serializer } from './serializer.js';
import { Markup, PyFloat, Tuple, UUID } from './tagged-json/values.js';
import { isPlainObject } from './path.js';
import { sameStoredValue, type StoredValue } from '../stored-value.js';

/**
 * What the session record and the save path need of a serializer, one top-level key at a time. A
 * member's `raw` form is opaque here: for a key-granular serializer (tagged JSON, JSON) it is the
 * member's exact stored text; for any other (v8, custom) it is the decoded value itself.
 */
export interface EntryCodec {
  /** The serializer's name, for errors. */
  readonly name: string;
  /**
   * Raw forms are immutable text (a key-granular serializer): members may be handed from one record
   * to the next unsplit. A decoded value (any other serializer) is a live object, which two requests
   * must never share: those records split the stored value again.
   */
  readonly sharedRaw: boolean;
  /** The stored value's members in stored order (throws when it cannot be read). */
  split(stored: StoredValue): Array<[string, unknown]>;
  decode(raw: unknown): unknown;
  encode(value: unknown, key: string): unknown;
  /**
   * Taken when an object value is handed to the handler, to notice changes made inside it later.
   * Only serializers without key granularity need one (the stored text is the reference otherwise).
   */
  snapshot(key: string, value: unknown): unknown;
  /**
   * At commit, for a value handed to the handler: `raw` itself (the very same reference) when the
   * value is unchanged, its new encoding otherwise. At most one encoding of the value.
   */
  settle(key: string, raw: unknown, snapshot: unknown, value: unknown): unknown;
  assemble(members: Iterable<readonly [string, unknown]>): StoredValue;
  /** Two raw forms (or undefined: no such member) hold the same value (conflict detection on save). */
  same(a: unknown, b: unknown): boolean;
}

/** No stored form: a key set in this request (also: a snapshot that could not be taken). */
export const NO_RAW: unique symbol = Symbol('koa-qsession.no-raw');

const codecs = new WeakMap<Serializer, EntryCodec>();

export function entryCodecFor(serializer: Serializer): EntryCodec {
  let codec = codecs.get(serializer);
  if (!codec) {
    codec = isKeyed(serializer) ? keyedCodec(serializer) : wholeCodec(serializer);
    codecs.set(serializer, codec);
  }
  return codec;
}

function keyedCodec(serializer: KeyedSerializer): EntryCodec {
  return {
    name: serializer.name,
    sharedRaw: true,
    split: (stored) => serializer.entries(stored),
    decode: (raw) => serializer.decodeValue(raw as string),
    encode: (value, key) => serializer.encodeValue(value, key),
    snapshot: () => undefined,
    settle(key, raw, _snapshot, value) {
      const text = serializer.encodeValue(value, key);
      if (text === raw) return raw;
      if (raw === NO_RAW) return text;
      // Stored in another spelling than ours (Python's `1.0`, a naive ISO date, an HTTP date with an
      // offset): unchanged when it still decodes to an equal value, and then it is kept verbatim.
      return sameValue(value, serializer.decodeValue(raw as string)) ? raw : text;
    },
    assemble: (members) => serializer.assemble(members as Iterable<readonly [string, string]>),
    same: (a, b) => a === b,
  };
}

/** A member of a serializer without key granularity: the decoded value, boxed so a new encoding is a new box. */
class Boxed {
  constructor(readonly value: unknown) {}
}

/** Serializers that only know whole dicts: loaded whole, values snapshotted through the serializer itself. */
function wholeCodec(serializer: Serializer): EntryCodec {
  const one = (key: string, value: unknown): StoredValue => serializer.dumps(dictOf([[key, value]]));
  return {
    name: serializer.name,
    sharedRaw: false,
    split(stored) {
      const dict = serializer.loads(stored);
      return Object.keys(dict).map((key) => [key, new Boxed(dict[key])]);
    },
    decode: (raw) => (raw as Boxed).value,
    encode: (value) => new Boxed(value),
    snapshot(key, value) {
      try {
        return one(key, value);
      } catch {
        return NO_RAW; // cannot be snapshotted: counts as changed
      }
    },
    settle(key, raw, snapshot, value) {
      if (raw !== NO_RAW && snapshot !== NO_RAW && snapshot !== undefined) {
        try {
          if (sameStoredValue(one(key, value), snapshot as StoredValue)) return raw;
        } catch {
          // not encodable now: the save reports it
        }
      }
      return new Boxed(value);
    },
    assemble(members) {
      const values: Array<[string, unknown]> = [];
      for (const [key, raw] of members) values.push([key, (raw as Boxed).value]);
      return serializer.dumps(dictOf(values));
    },
    same: (a, b) => a === b || (a instanceof Boxed && b instanceof Boxed && sameValue(a.value, b.value)),
  };
}

function dictOf(members: Iterable<readonly [string, unknown]>): Record<string, unknown> {
  const dict: Record<string, unknown> = Object.create(null);
  for (const [key, value] of members) dict[key] = value;
  return dict;
}

/**
 * Structural equality of two session values, knowing the value types a session holds: two values
 * that are equal here encode to the same text.
 */
export function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'number') return typeof b === 'number' && Object.is(a, b); // -0 and 0 are written differently
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  // A Tuple is an Array too: a tuple and a list of the same items are different values (` t` or not).
  if (Array.isArray(a)) return Array.isArray(b) && (a instanceof Tuple) === (b instanceof Tuple) && sameItems(a, b);
  if (isPlainObject(a)) {
    if (!isPlainObject(b)) return false;
    const keys = Object.keys(a);
    const other = Object.keys(b);
    if (keys.length !== other.length) return false;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== other[i] || !sameValue(a[keys[i]!], b[keys[i]!])) return false;
    return true;
  }
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Date) return a.getTime() === (b as Date).getTime();
  if (a instanceof Uint8Array) return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b as Uint8Array);
  if (a instanceof Markup) return a.html === (b as Markup).html;
  if (a instanceof UUID) return a.hex === (b as UUID).hex;
  if (a instanceof PyFloat) return Object.is(a.value, (b as PyFloat).value);
  return false; // a class this module does not know: assume changed
}

function sameItems(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
  return true;
}
