import { httpDate, naiveUtcIsoDate, parsePyDate, type DateFormat } from './dates.js';
import { Markup, Tuple, UUID } from './values.js';

/**
 * One tag of the tagged JSON format, as Flask's `JSONTag`: values `check` accepts are written as
 * `{"<key>": toJSON(value)}`, and such an object is read back with `toPython`.
 *
 * `toJSON` returns plain JSON data (strings, numbers, booleans, null, arrays, plain objects); to put
 * an arbitrary session value inside it, pass that value through `tag` (Flask's `serializer.tag`).
 * `toPython` receives the inner value already decoded (children first, as Python's `object_hook`).
 * Keys start with a space by convention so they cannot clash with ordinary data keys.
 */
export interface JSONTag<T = unknown> {
  readonly key: string;
  check(value: unknown): value is T;
  toJSON(value: T, tag: (child: unknown) => unknown): unknown;
  toPython(value: unknown): T;
}

/** The built-in tags after ` di` and the pass-through dict / list steps, in the encoder's order. */
export const TUPLE_TAG: JSONTag<Tuple> = {
  key: ' t',
  check: (value): value is Tuple => value instanceof Tuple,
  toJSON: (value, tag) => value.map((item) => tag(item)),
  toPython: (value) => {
    if (!Array.isArray(value)) throw new TypeError('" t" holds no list');
    return new Tuple(value);
  },
};

export const BYTES_TAG: JSONTag<Uint8Array> = {
  key: ' b',
  check: (value): value is Uint8Array => value instanceof Uint8Array,
  toJSON: (value) => Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'),
  toPython: (value) => {
    if (typeof value !== 'string') throw new TypeError('" b" holds no string');
    return Buffer.from(value, 'base64');
  },
};

interface HasHtml {
  __html__(): unknown;
}

/** Python checks `callable(getattr(value, "__html__"))`; here: any class instance with that method. */
export const MARKUP_TAG: JSONTag<HasHtml> = {
  key: ' m',
  check: (value): value is HasHtml =>
    typeof value === 'object' && value !== null && typeof (value as Partial<HasHtml>).__html__ === 'function',
  toJSON: (value) => String(value.__html__()),
  toPython: (value) => {
    if (typeof value !== 'string') throw new TypeError('" m" holds no string');
    return new Markup(value);
  },
};

export const UUID_TAG: JSONTag<UUID> = {
  key: ' u',
  check: (value): value is UUID => value instanceof UUID,
  toJSON: (value) => value.hex,
  toPython: (value) => {
    if (typeof value !== 'string') throw new TypeError('" u" holds no string');
    return new UUID(value);
  },
};

/** `" d"`, written in `format` (see DateFormat); either form, and Quart's aware ISO dates, are read. */
export function dateTag(format: DateFormat): JSONTag<Date> {
  const write = format === 'naive-utc' ? naiveUtcIsoDate : httpDate;
  return {
    key: ' d',
    check: (value): value is Date => value instanceof Date,
    toJSON: (value) => write(value),
    toPython: (value) => {
      if (typeof value !== 'string') throw new TypeError('" d" holds no string');
      return parsePyDate(value);
    },
  };
}

export const DATE_TAG: JSONTag<Date> = dateTag('http');

export const BUILTIN_TAGS: readonly JSONTag[] = [TUPLE_TAG, BYTES_TAG, MARKUP_TAG, UUID_TAG, DATE_TAG] as readonly JSONTag[];
