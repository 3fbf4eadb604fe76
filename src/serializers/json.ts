import { SessionSerializationError } from '../errors.js';
import { toText, type StoredValue } from '../stored-value.js';
import { encodeWithinStack } from './nesting.js';
import { joinMembers, prepareMembers, splitMembers } from './members.js';
import { describeValue, indexPath, isPlainObject, keyPath } from './path.js';
import { parseJson, runtimeJsonDefect } from './runtime-json.js';
import type { KeyedSerializer } from './serializer.js';

/**
 * Plain JSON: strings, finite numbers, booleans, null, arrays and plain objects. `undefined` is
 * treated as JSON treats it (an object member is left out, an array item becomes null); anything
 * else JSON would drop or change silently (functions, symbols, BigInt, NaN, Infinity, Date, Map,
 * Set, class instances, cycles) is refused with the key path instead.
 * Not byte-compatible with Python (use tagged JSON to share sessions with Quart / Flask).
 */
export const jsonSerializer: KeyedSerializer = {
  name: 'json',
  dumps(data) {
    // JSON.parse reads any depth; only the encoder's own stack limits it, refused as a typed error.
    encodeWithinStack('', () => assertPlainJson(data, '', new Set()));
    return JSON.stringify(data);
  },
  loads(stored: StoredValue) {
    let value: unknown;
    try {
      // Not JSON.parse itself: Node 24.21's re-keys objects (see runtime-json.ts).
      value = parseJson(toText(stored));
    } catch {
      // JSON.parse quotes the text in its message; the stored session must not reach logs.
      throw new SyntaxError('stored session is not valid JSON');
    }
    if (!isPlainObject(value)) throw new TypeError('stored session is not a JSON object');
    return value;
  },
  prepare() {
    prepareMembers({ nonFinite: false });
    runtimeJsonDefect();
  },
  entries(stored: StoredValue) {
    return splitMembers(toText(stored), { nonFinite: false });
  },
  decodeValue(raw: string) {
    return parseJson(raw);
  },
  encodeValue(value: unknown, key: string) {
    const path = keyPath('', key);
    return encodeWithinStack(path, () => {
      assertPlainJson(value, path, new Set());
      return JSON.stringify(value);
    });
  },
  assemble(entries) {
    return joinMembers(entries, (key) => JSON.stringify(key));
  },
};

function assertPlainJson(value: unknown, path: string, seen: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new SessionSerializationError(path, `${value} is not representable in JSON`);
      return;
    case 'object': {
      if (value === null) return;
      if (seen.has(value)) throw new SessionSerializationError(path, 'the value contains a cycle');
      const isArray = Array.isArray(value);
      if (!isArray && !isPlainObject(value)) {
        throw new SessionSerializationError(path, `${describeValue(value)} is not plain JSON (use the tagged-json serializer)`);
      }
      if (!isArray && Object.getOwnPropertySymbols(value).length > 0) throw new SessionSerializationError(path, 'symbol keys cannot be stored');
      seen.add(value);
      // `undefined` is left to JSON.stringify: dropped from objects, null in arrays.
      if (isArray) value.forEach((item: unknown, i) => item !== undefined && assertPlainJson(item, indexPath(path, i), seen));
      else for (const [key, item] of Object.entries(value)) if (item !== undefined) assertPlainJson(item, keyPath(path, key), seen);
      seen.delete(value);
      return;
    }
    default:
      throw new SessionSerializationError(path, `${describeValue(value)} is not representable in JSON`);
  }
}
