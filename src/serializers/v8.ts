import { deserialize, serialize } from 'node:v8';
import { SessionSerializationError } from '../errors.js';
import type { StoredValue } from '../stored-value.js';
import { describeValue, indexPath, isPlainObject, keyPath } from './path.js';
import type { Serializer } from './serializer.js';

/**
 * Node's structured-clone format (`node:v8`), for Node-only deployments: keeps `undefined`, BigInt,
 * NaN, Date, Map, Set, RegExp, typed arrays / Buffer and cycles exactly. Values are bytes, so every
 * store must give back the very bytes it was given. Python cannot read it.
 *
 * Refused, with the key path: functions and symbols (v8 cannot clone them), and class instances
 * other than those built-ins, which v8 would silently turn into plain objects.
 * Only read stores you trust: deserializing is not meant for hostile input.
 */
export const v8Serializer: Serializer = {
  name: 'v8',
  dumps(data) {
    check(data, '', new Set());
    return serialize(data);
  },
  loads(stored: StoredValue) {
    // Text here means a store handed back bytes as a string: decoding it again would corrupt them.
    if (typeof stored === 'string') throw new TypeError('a v8 session must be stored as bytes, the store returned text');
    let value: unknown;
    try {
      value = deserialize(stored);
    } catch {
      throw new TypeError('stored session is not v8-serialized data');
    }
    if (!isPlainObject(value)) throw new TypeError('stored session is not an object');
    return value;
  },
};

const CLONEABLE = [Date, RegExp, Map, Set, ArrayBuffer];

function check(value: unknown, path: string, seen: Set<object>): void {
  if (typeof value === 'function' || typeof value === 'symbol') {
    throw new SessionSerializationError(path, `${describeValue(value)} cannot be stored in a session`);
  }
  if (typeof value !== 'object' || value === null || seen.has(value)) return; // cycles are kept by v8
  seen.add(value);
  if (Array.isArray(value)) {
    value.forEach((item: unknown, i) => check(item, indexPath(path, i), seen));
  } else if (isPlainObject(value)) {
    if (Object.getOwnPropertySymbols(value).length > 0) throw new SessionSerializationError(path, 'symbol keys cannot be stored');
    for (const key of Object.keys(value)) check(value[key], keyPath(path, key), seen);
  } else if (value instanceof Map) {
    let i = 0;
    for (const [key, item] of value) {
      check(key, `${path}<key ${i}>`, seen);
      check(item, `${path}<value ${i++}>`, seen);
    }
  } else if (value instanceof Set) {
    let i = 0;
    for (const item of value) check(item, `${path}<item ${i++}>`, seen);
  } else if (!ArrayBuffer.isView(value) && !CLONEABLE.some((type) => value instanceof type && Object.getPrototypeOf(value) === type.prototype)) {
    throw new SessionSerializationError(path, `${describeValue(value)} would come back as a plain object (v8 keeps no classes)`);
  }
}
