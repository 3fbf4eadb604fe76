import { SessionSerializationError } from '../errors.js';
import { toText, type StoredValue } from '../stores/store.js';
import type { Serializer } from './serializer.js';

/**
 * Plain JSON: strings, finite numbers, booleans, null, arrays and plain objects. Anything JSON
 * would drop or change silently (undefined, functions, symbols, BigInt, NaN, Infinity, Date, Map,
 * Set, class instances, cycles) is refused with the key path instead.
 */
export const jsonSerializer: Serializer = {
  name: 'json',
  dumps(data) {
    assertPlainJson(data, '', new Set());
    return JSON.stringify(data);
  },
  loads(stored: StoredValue) {
    const value: unknown = JSON.parse(toText(stored));
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new TypeError('stored session is not a JSON object');
    }
    return value as Record<string, unknown>;
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
      const proto: unknown = Object.getPrototypeOf(value);
      const isArray = Array.isArray(value);
      if (!isArray && proto !== Object.prototype && proto !== null) {
        throw new SessionSerializationError(path, `${describe(value)} is not plain JSON (use the tagged serializer)`);
      }
      seen.add(value);
      if (isArray) value.forEach((item, i) => assertPlainJson(item, `${path}[${i}]`, seen));
      else for (const [key, item] of Object.entries(value)) assertPlainJson(item, path ? `${path}.${key}` : key, seen);
      seen.delete(value);
      return;
    }
    default:
      throw new SessionSerializationError(path, `${typeof value} is not representable in JSON`);
  }
}

function describe(value: object): string {
  return value.constructor?.name ? `a ${value.constructor.name}` : 'an object with a custom prototype';
}
