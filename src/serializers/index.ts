import { SessionOptionsError } from '../errors.js';
import { jsonSerializer } from './json.js';
import type { Serializer } from './serializer.js';
import { taggedJsonSerializer } from './tagged-json/index.js';
import { v8Serializer } from './v8.js';

/** The built-in serializers, selectable by name in the `serializer` option. */
export type SerializerName = 'tagged-json' | 'json' | 'v8';

const BUILTIN: Record<SerializerName, Serializer> = {
  'tagged-json': taggedJsonSerializer,
  json: jsonSerializer,
  v8: v8Serializer,
};

/** The `serializer` option as a Serializer: a built-in name, an object `{ name, dumps, loads }`, or the default (tagged JSON). */
export function resolveSerializer(option: Serializer | SerializerName | undefined): Serializer {
  if (option === undefined) return taggedJsonSerializer;
  if (typeof option === 'string') {
    if (Object.hasOwn(BUILTIN, option)) return BUILTIN[option];
    throw new SessionOptionsError('serializer', `must be ${Object.keys(BUILTIN).map((n) => `"${n}"`).join(', ')} or an object { name, dumps, loads } (got ${JSON.stringify(option)})`);
  }
  const candidate = option as Partial<Serializer> | null;
  if (candidate === null || typeof candidate !== 'object' || typeof candidate.name !== 'string' ||
      typeof candidate.dumps !== 'function' || typeof candidate.loads !== 'function') {
    throw new SessionOptionsError('serializer', 'must be "tagged-json", "json", "v8" or an object { name, dumps, loads }');
  }
  if (candidate.prepare !== undefined && typeof candidate.prepare !== 'function') {
    throw new SessionOptionsError('serializer', `prepare, when given, must be a function (got ${typeof candidate.prepare})`);
  }
  return option;
}
