/**
 * JSON text exactly as Python's `json` module writes and reads it (the default `ensure_ascii=True`,
 * `allow_nan=True`, `strict=True`). `JSON.stringify` / `JSON.parse` differ in ways that matter for
 * byte-identical sessions: non-ASCII is not escaped, floats are formatted differently, big integers
 * lose precision, and `1.0` cannot be told from `1`.
 */

const SHORT_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };
// Python's ESCAPE_ASCII: `"`, `\` and everything outside printable ASCII (space..~), per UTF-16 unit.
const NEEDS_ESCAPE = /["\\]|[^ -~]/g;
/** The same characters, for a test (no `g` flag: no lastIndex to carry between calls). */
const ANY_ESCAPE = /["\\]|[^ -~]/;

/** A JSON string literal as `json.dumps(s)` writes it: astral characters become surrogate-pair escapes. */
export function pyString(text: string): string {
  // Most strings need no escape: one test, no replace (a global replace allocates even with no match).
  if (!ANY_ESCAPE.test(text)) return `"${text}"`;
  return `"${text.replace(NEEDS_ESCAPE, (ch) => SHORT_ESCAPES[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;
}

/** Python's `repr(float)`: shortest round-trip digits, exponent form below 1e-4 and from 1e16 on. */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // toExponential() without a precision gives the same shortest digits as Python's repr.
  const [mantissa, expText] = x.toExponential().split('e') as [string, string];
  const sign = x < 0 ? '-' : '';
  const digits = mantissa.replace('-', '').replace('.', '');
  const exp = Number(expText);
  if (exp >= -4 && exp < 16) {
    if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
    const whole = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
    return `${sign}${whole}.${digits.slice(exp + 1) || '0'}`;
  }
  const head = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${sign}${head}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** What the parser hands to `onNumber`: the literal's text, and whether Python reads it as an int. */
export interface NumberLiteral {
  readonly text: string;
  readonly isInt: boolean;
}

export interface ParseHooks {
  /** Called for each number literal (and `NaN` / `Infinity` / `-Infinity`, with isInt false). */
  onNumber(literal: NumberLiteral): unknown;
  /** Called for each object once its members are parsed (bottom-up, like Python's `object_hook`). */
  onObject(object: Record<string, unknown>): unknown;
}

/** Deeper than this is refused, as Python's recursion limit refuses it (and no stack overflow here). */
const MAX_DEPTH = 1000;
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;

/**
 * Parses what Python's `json.loads` accepts. Error messages give a position, never the text: the
 * text is a stored session and errors reach logs through the `decode-error` event.
 */
export function parsePyJson(text: string, hooks: ParseHooks): unknown {
  let pos = 0;
  let depth = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`invalid session JSON: ${what} at position ${pos}`);
  };
  const skip = (): void => {
    WHITESPACE.lastIndex = pos;
    WHITESPACE.test(text);
    pos = WHITESPACE.lastIndex;
  };
  const literal = (word: string, value: unknown): unknown => {
    if (!text.startsWith(word, pos)) fail('unexpected character');
    pos += word.length;
    return value;
  };

  const parseString = (): string => {
    pos++; // opening quote
    let out = '';
    let start = pos;
    for (;;) {
      if (pos >= text.length) fail('unterminated string');
      const code = text.charCodeAt(pos);
      if (code === 0x22) break;
      if (code < 0x20) fail('control character in string');
      if (code !== 0x5c) {
        pos++;
        continue;
      }
      out += text.slice(start, pos);
      const esc = text[pos + 1];
      if (esc === 'u') {
        const hex = text.slice(pos + 2, pos + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('invalid \\u escape');
        out += String.fromCharCode(parseInt(hex, 16));
        pos += 6;
      } else {
        const simple = esc === undefined ? undefined : UNESCAPE[esc];
        if (simple === undefined) fail('invalid escape');
        out += simple;
        pos += 2;
      }
      start = pos;
    }
    out += text.slice(start, pos);
    pos++; // closing quote
    return out;
  };

  const parseValue = (): unknown => {
    skip();
    const ch = text[pos];
    switch (ch) {
      case '{':
        return parseObject();
      case '[':
        return parseArray();
      case '"':
        return parseString();
      case 't':
        return literal('true', true);
      case 'f':
        return literal('false', false);
      case 'n':
        return literal('null', null);
      case 'N':
        return literal('NaN', hooks.onNumber({ text: 'NaN', isInt: false }));
      case 'I':
        return literal('Infinity', hooks.onNumber({ text: 'Infinity', isInt: false }));
      case undefined:
        return fail('unexpected end');
      default: {
        if (text.startsWith('-Infinity', pos)) return literal('-Infinity', hooks.onNumber({ text: '-Infinity', isInt: false }));
        NUMBER.lastIndex = pos;
        const match = NUMBER.exec(text);
        if (!match) return fail('unexpected character');
        pos = NUMBER.lastIndex;
        return hooks.onNumber({ text: match[0], isInt: match[1] === undefined && match[2] === undefined });
      }
    }
  };

  const enter = (): void => {
    if (++depth > MAX_DEPTH) fail('nesting too deep');
    pos++;
    skip();
  };

  const parseArray = (): unknown[] => {
    enter();
    const items: unknown[] = [];
    if (text[pos] === ']') {
      pos++;
      depth--;
      return items;
    }
    for (;;) {
      items.push(parseValue());
      skip();
      const next = text[pos++];
      if (next === ']') break;
      if (next !== ',') fail('expected , or ]');
    }
    depth--;
    return items;
  };

  const parseObject = (): unknown => {
    enter();
    const object: Record<string, unknown> = {};
    if (text[pos] === '}') {
      pos++;
      depth--;
      return hooks.onObject(object);
    }
    for (;;) {
      skip();
      if (text[pos] !== '"') fail('expected a key');
      const key = parseString();
      skip();
      if (text[pos++] !== ':') fail('expected :');
      setMember(object, key, parseValue());
      skip();
      const next = text[pos++];
      if (next === '}') break;
      if (next !== ',') fail('expected , or }');
    }
    depth--;
    return hooks.onObject(object);
  };

  const value = parseValue();
  skip();
  if (pos < text.length) fail('extra data');
  return value;
}

const UNESCAPE: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** A plain-object member, `__proto__` included as an ordinary key (a duplicate key keeps the last value, as Python). */
export function setMember(object: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
  else object[key] = value;
}
