/**
 * A one-pass scanner that splits a stored top-level JSON object into its members, each value kept
 * as its exact source text. It validates the whole grammar (strings and their escapes, numbers,
 * literals, nesting) without building any value, so a session can be loaded without decoding it and
 * written back without re-encoding what the request did not change.
 *
 * Error messages give a position, never the text: the text is a stored session, and errors reach logs.
 */

/** One member of a stored object: its key (decoded) and its value's exact source text. */
export type Member = [key: string, raw: string];

export interface ScanOptions {
  /** Accept Python's `NaN`, `Infinity` and `-Infinity` (Python's json reads and writes them). */
  readonly nonFinite: boolean;
}

/** Deeper than this is refused, as Python's recursion limit refuses it. */
const MAX_DEPTH = 1000;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;

/** The stored text is not JSON (or not an object); carries the position, never the text. */
export class StoredTextError extends SyntaxError {
  readonly position: number;
  constructor(what: string, position: number) {
    super(`invalid session JSON: ${what} at position ${position}`);
    this.name = 'StoredTextError';
    this.position = position;
  }
}

/**
 * The members of the top-level object `text`, in stored order. A key that occurs more than once
 * keeps its LAST value at its FIRST position, as `JSON.parse` and Python's `json.loads` read it.
 * Anything but a top-level object, or invalid JSON, throws (TypeError / StoredTextError).
 */
export function splitMembers(text: string, options: ScanOptions): Member[] {
  const scanner = new Scanner(text, options.nonFinite);
  let pos = scanner.space(0);
  if (text.charCodeAt(pos) !== OPEN_BRACE) {
    scanner.value(pos); // a valid non-object is "not an object"; invalid text is a syntax error
    throw new TypeError('stored session is not a JSON object');
  }
  const members: Member[] = [];
  let index: Map<string, number> | undefined;
  pos = scanner.space(pos + 1);
  if (text.charCodeAt(pos) === CLOSE_BRACE) pos++;
  else {
    for (;;) {
      if (text.charCodeAt(pos) !== QUOTE) scanner.fail('expected a key', pos);
      const keyEnd = scanner.string(pos);
      const key = scanner.keyText(pos, keyEnd);
      pos = scanner.space(keyEnd);
      if (text.charCodeAt(pos) !== COLON) scanner.fail('expected :', pos);
      const start = scanner.space(pos + 1);
      const end = scanner.value(start);
      const raw = text.slice(start, end);
      // Duplicate keys are rare (nothing we or Python write has them): a map only once there are several members.
      if (members.length > 8 && index === undefined) {
        index = new Map();
        for (let i = 0; i < members.length; i++) if (!index.has(members[i]![0])) index.set(members[i]![0], i);
      }
      const seen = index ? index.get(key) : findKey(members, key);
      if (seen === undefined) {
        index?.set(key, members.length);
        members.push([key, raw]);
      } else members[seen]![1] = raw;
      pos = scanner.space(end);
      const next = text.charCodeAt(pos++);
      if (next === CLOSE_BRACE) break;
      if (next !== COMMA) scanner.fail('expected , or }', pos - 1);
      pos = scanner.space(pos);
    }
  }
  if (scanner.space(pos) !== text.length) scanner.fail('extra data', pos);
  return members;
}

function findKey(members: Member[], key: string): number | undefined {
  for (let i = 0; i < members.length; i++) if (members[i]![0] === key) return i;
  return undefined;
}

/** `{"k":raw,...}` with each key written by `key` (the serializer's own string encoder). */
export function joinMembers(members: Iterable<readonly [string, string]>, key: (name: string) => string): string {
  let out = '{';
  let first = true;
  for (const [name, raw] of members) {
    out += first ? `${key(name)}:${raw}` : `,${key(name)}:${raw}`;
    first = false;
  }
  return out + '}';
}

class Scanner {
  private depth = 0;
  constructor(
    private readonly text: string,
    private readonly nonFinite: boolean,
  ) {}

  fail(what: string, pos: number): never {
    throw new StoredTextError(what, pos);
  }

  space(pos: number): number {
    const text = this.text;
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
      else return pos;
    }
  }

  /** A string starting at `pos` (its quote); returns the position after the closing quote. */
  string(pos: number): number {
    const text = this.text;
    pos++;
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === QUOTE) return pos + 1;
      if (c === BACKSLASH) {
        const e = text.charCodeAt(pos + 1);
        if (e === 0x75 /* u */) {
          for (let i = 2; i < 6; i++) if (!isHex(text.charCodeAt(pos + i))) this.fail('invalid \\u escape', pos);
          pos += 6;
        } else if (e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
          pos += 2;
        } else this.fail('invalid escape', pos);
      } else if (c < 0x20 || Number.isNaN(c)) {
        this.fail(Number.isNaN(c) ? 'unterminated string' : 'control character in string', pos);
      } else pos++;
    }
  }

  /** A key's decoded text: the slice itself unless it holds escapes. */
  keyText(start: number, end: number): string {
    const inner = this.text.slice(start + 1, end - 1);
    return inner.includes('\\') ? (JSON.parse(this.text.slice(start, end)) as string) : inner;
  }

  /** Any JSON value starting at `pos`; returns the position after it. */
  value(pos: number): number {
    const text = this.text;
    const c = text.charCodeAt(pos);
    switch (c) {
      case QUOTE:
        return this.string(pos);
      case OPEN_BRACE:
        return this.object(pos);
      case OPEN_BRACKET:
        return this.array(pos);
      case 0x74: // t
        return this.word(pos, 'true');
      case 0x66: // f
        return this.word(pos, 'false');
      case 0x6e: // n
        return this.word(pos, 'null');
      case 0x4e: // N
        return this.nonFinite ? this.word(pos, 'NaN') : this.fail('unexpected character', pos);
      case 0x49: // I
        return this.nonFinite ? this.word(pos, 'Infinity') : this.fail('unexpected character', pos);
      default:
        if (c === MINUS && this.nonFinite && text.charCodeAt(pos + 1) === 0x49) return this.word(pos, '-Infinity');
        if (c === MINUS || (c >= 0x30 && c <= 0x39)) return this.number(pos);
        return this.fail(Number.isNaN(c) ? 'unexpected end' : 'unexpected character', pos);
    }
  }

  private word(pos: number, word: string): number {
    if (!this.text.startsWith(word, pos)) this.fail('unexpected character', pos);
    return pos + word.length;
  }

  /** `-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?` */
  private number(pos: number): number {
    const text = this.text;
    if (text.charCodeAt(pos) === MINUS) pos++;
    const first = text.charCodeAt(pos);
    if (first === 0x30) pos++;
    else if (first >= 0x31 && first <= 0x39) pos = digits(text, pos);
    else this.fail('invalid number', pos);
    if (text.charCodeAt(pos) === 0x2e) {
      const after = digits(text, pos + 1);
      if (after === pos + 1) this.fail('invalid number', pos);
      pos = after;
    }
    const e = text.charCodeAt(pos);
    if (e === 0x65 || e === 0x45) {
      pos++;
      const sign = text.charCodeAt(pos);
      if (sign === 0x2b || sign === MINUS) pos++;
      const after = digits(text, pos);
      if (after === pos) this.fail('invalid number', pos);
      pos = after;
    }
    return pos;
  }

  private enter(pos: number): void {
    if (++this.depth > MAX_DEPTH) this.fail('nesting too deep', pos);
  }

  private object(pos: number): number {
    const text = this.text;
    this.enter(pos);
    pos = this.space(pos + 1);
    if (text.charCodeAt(pos) === CLOSE_BRACE) {
      this.depth--;
      return pos + 1;
    }
    for (;;) {
      if (text.charCodeAt(pos) !== QUOTE) this.fail('expected a key', pos);
      pos = this.space(this.string(pos));
      if (text.charCodeAt(pos) !== COLON) this.fail('expected :', pos);
      pos = this.space(this.value(this.space(pos + 1)));
      const next = text.charCodeAt(pos++);
      if (next === CLOSE_BRACE) break;
      if (next !== COMMA) this.fail('expected , or }', pos - 1);
      pos = this.space(pos);
    }
    this.depth--;
    return pos;
  }

  private array(pos: number): number {
    const text = this.text;
    this.enter(pos);
    pos = this.space(pos + 1);
    if (text.charCodeAt(pos) === CLOSE_BRACKET) {
      this.depth--;
      return pos + 1;
    }
    for (;;) {
      pos = this.space(this.value(pos));
      const next = text.charCodeAt(pos++);
      if (next === CLOSE_BRACKET) break;
      if (next !== COMMA) this.fail('expected , or ]', pos - 1);
      pos = this.space(pos);
    }
    this.depth--;
    return pos;
  }
}

function digits(text: string, pos: number): number {
  for (;;) {
    const c = text.charCodeAt(pos);
    if (c >= 0x30 && c <= 0x39) pos++;
    else return pos;
  }
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}
