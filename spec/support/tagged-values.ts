import fc from 'fast-check';
import { Markup, PyFloat, Tuple, UUID } from 'koa-qsession';

/**
 * Session values built from the types tagged JSON supports, in the form `loads` gives them back:
 * safe integers and other finite doubles as numbers, whole floats as PyFloat, integers beyond 2^53
 * as BigInt, bytes as Buffer, dates in whole seconds within Python's years 1-9999.
 */
const MAX = BigInt(Number.MAX_SAFE_INTEGER);
const TAG_KEYS = [' t', ' b', ' m', ' u', ' d', ' di', ' x'];

// Every UTF-16 unit, lone surrogates and controls included, plus whole astral characters.
const anyText = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)) }),
  fc.string(),
);

// From year 100: Python's own parse_date reads years 1-99 as 19xx / 20xx (see the spec's "years below 100" case).
export const dateValue = fc
  .date({ min: new Date('0100-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true })
  .map((d) => new Date(Math.floor(d.getTime() / 1000) * 1000));

export const scalarValue = fc.oneof(
  anyText,
  fc.boolean(),
  fc.constant(null),
  fc.maxSafeInteger(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.oneof(fc.bigInt({ min: MAX + 1n }), fc.bigInt({ max: -MAX - 1n })),
  fc.maxSafeInteger().filter((n) => !Object.is(n, -0)).map((n) => new PyFloat(n)),
  fc.constantFrom(new PyFloat(NaN), new PyFloat(Infinity), new PyFloat(-Infinity)),
  fc.uint8Array({ maxLength: 24 }).map((bytes) => Buffer.from(bytes)),
  anyText.map((html) => new Markup(html)),
  fc.uuid().map((text) => new UUID(text)),
  dateValue,
);

const key = fc.oneof(anyText, fc.constantFrom(...TAG_KEYS));

const { value } = fc.letrec<{ value: unknown; list: unknown[]; tuple: Tuple; dict: Record<string, unknown> }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalarValue, tie('list'), tie('tuple'), tie('dict')),
  list: fc.array(tie('value'), { maxLength: 4 }),
  tuple: fc.array(tie('value'), { maxLength: 4 }).map((items) => new Tuple(items)),
  dict: fc.dictionary(key, tie('value'), { maxKeys: 4, noNullPrototype: true }),
}));

export const anyValue = value;
export const sessionDict = fc.dictionary(key, value, { maxKeys: 6, noNullPrototype: true });

/** A Python expression for a JS session value, built independently of the serializer under test. */
export function toPy(v: unknown): string {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return pyLiteral(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isSafeInteger(v) && !Object.is(v, -0) ? String(v) : f64(v);
  if (v instanceof PyFloat) return f64(v.value);
  if (v instanceof Uint8Array) return `bytes.fromhex('${Buffer.from(v).toString('hex')}')`;
  if (v instanceof Tuple) return v.length === 0 ? '()' : `(${v.items.map(toPy).join(', ')},)`;
  if (Array.isArray(v)) return `[${v.map(toPy).join(', ')}]`;
  if (v instanceof Markup) return `Markup(${pyLiteral(v.html)})`;
  if (v instanceof UUID) return `UUID('${v.hex}')`;
  if (v instanceof Date) {
    return `datetime(${v.getUTCFullYear()}, ${v.getUTCMonth() + 1}, ${v.getUTCDate()}, ${v.getUTCHours()}, ${v.getUTCMinutes()}, ${v.getUTCSeconds()}, tzinfo=utc)`;
  }
  if (typeof v === 'object') {
    return `{${Object.keys(v).map((k) => `${pyLiteral(k)}: ${toPy((v as Record<string, unknown>)[k])}`).join(', ')}}`;
  }
  throw new Error(`toPy: no Python form for ${typeof v}`);
}

function f64(x: number): string {
  const bits = Buffer.alloc(8);
  bits.writeDoubleBE(x);
  return `f64('${bits.toString('hex')}')`;
}

/** A Python str literal: code points, so astral characters stay one character (not two surrogates). */
function pyLiteral(text: string): string {
  let out = "'";
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code >= 0x20 && code < 0x7f && ch !== "'" && ch !== '\\') out += ch;
    else if (code > 0xffff) out += `\\U${code.toString(16).padStart(8, '0')}`;
    else out += `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return `${out}'`;
}
