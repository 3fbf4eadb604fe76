import { SessionSerializationError } from '../errors.js';
import type { EntryCodec } from '../serializers/entry-codec.js';

/**
 * The check made where a value is assigned (`session.x = value`), so that a value the serializer
 * cannot store fails on the handler's own line, naming the key, instead of at commit with a stack
 * that points into the library. It is shallow and cheap by design:
 * - strings, booleans, null, finite numbers, plain objects and arrays pass unlooked-at (every
 *   serializer stores them; what they hold, cycles included, is checked at commit, naming the path);
 * - anything else (a function, a Symbol, a BigInt, NaN, a Map, a Set, a Date, a Buffer, a class
 *   instance) is put to the serializer itself, alone, so the verdict is the serializer's own: v8
 *   keeps a Map, JSON does not, a tagged-JSON tag registered for a class makes it storable. Big
 *   built-in containers go as an empty one of the same kind (the verdict depends on the kind, not
 *   on the items), so the check never encodes a large value twice.
 */
export function assertStorable(codec: EntryCodec, key: string, value: unknown): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (Number.isFinite(value)) return;
      break;
    case 'object':
      if (value === null || Array.isArray(value)) return;
      if (isPlain(value)) return;
      break;
    default:
      break;
  }
  let refused: SessionSerializationError;
  try {
    codec.assemble([[key, codec.encode(standIn(value), key)]]);
    return;
  } catch (error) {
    refused = error instanceof SessionSerializationError
      ? error
      : new SessionSerializationError(key, `the ${codec.name} serializer refused it (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
  // The stack as seen from here: the serializer's frames would fill the default 10 and hide the
  // handler's line, which is the point of refusing the value now.
  const limit = Error.stackTraceLimit;
  if (typeof limit === 'number') {
    Error.stackTraceLimit = limit + 6;
    Error.captureStackTrace(refused, assertStorable);
    Error.stackTraceLimit = limit;
  }
  throw refused;
}

function isPlain(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A value of the same kind as `value`, empty when `value` is a built-in container (see assertStorable). */
function standIn(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Map.prototype) return new Map();
  if (proto === Set.prototype) return new Set();
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return (value as unknown as { subarray(start: number, end: number): unknown }).subarray(0, 0);
  if (proto === ArrayBuffer.prototype) return new ArrayBuffer(0);
  return value;
}
