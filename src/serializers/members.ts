/**
 * Splits a stored top-level JSON object into its members, each value kept as its exact source text,
 * validating the whole grammar (strings and their escapes, numbers, literals, nesting) without
 * building any value, so a session can be loaded without decoding it and written back without
 * re-encoding what the request did not change. Two paths: a native regular expression per member
 * (member-pattern.ts) for the compact JSON we and Python write, and a one-pass scanner for the rest.
 *
 * Error messages give a position, never the text: the text is a stored session, and errors reach logs.
 */
import { memberPattern } from './member-pattern.js';

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
 *
 * The whole text is validated on every call, before anything is returned: a session is either read
 * whole or refused (`decode-error`), never used and found invalid later. A lazy split (members only
 * up to the key read) would have to validate the rest anyway, and validating is scanning: it would
 * save building a few members, not the scan. What makes a large session cheap is the fast path,
 * `matchMembers` (native regular expression); the scanner below decides whatever it declines.
 */
export function splitMembers(text: string, options: ScanOptions): Member[] {
  return matchMembers(text, options.nonFinite) ?? scanMembers(text, options);
}

/** Every construct the fast path knows, nested: to make V8 compile all of the pattern's paths up front. */
export const WARM_UP_TEXT = '{"s":"a\\u00e9\\n","n":-1.5e3,"t":true,"f":false,"z":null,"l":[1,{"d":{"e":[["x"]]}}],"o":{}}';

/**
 * One-time work done when the middleware is created, so the first request that loads a session does
 * not pay it: V8 compiles the member pattern to bytecode on its first match and to machine code on its
 * second, together about 30 ms for a pattern this size (measured 20 + 9 ms on Node 24; 45 ms on a
 * loaded machine), which would otherwise land on one unlucky request, inside its `storeTimeout`.
 * The compiled code is kept for the life of the process (it survives garbage collection).
 */
export function prepareMembers(options: ScanOptions): void {
  for (let run = 0; run < 2; run++) matchMembers(WARM_UP_TEXT, options.nonFinite);
}

/** Members in stored order, a duplicated key's last value at its first position. */
class MemberList {
  readonly members: Member[] = [];
  private index: Map<string, number> | undefined;

  add(key: string, raw: string): void {
    const { members } = this;
    // Duplicate keys are rare (nothing we or Python write has them): a map only once there are several members.
    if (members.length > 8 && this.index === undefined) {
      this.index = new Map();
      for (let i = 0; i < members.length; i++) if (!this.index.has(members[i]![0])) this.index.set(members[i]![0], i);
    }
    const seen = this.index ? this.index.get(key) : findKey(members, key);
    if (seen === undefined) {
      this.index?.set(key, members.length);
      members.push([key, raw]);
    } else members[seen]![1] = raw;
  }
}

/**
 * The fast path (see member-pattern.ts): one native match per member. Undefined when the pattern
 * declines the text anywhere (whitespace, deep nesting, or invalid): the scanner then reads it all.
 * Exported for the specs, which check that both paths agree.
 */
export function matchMembers(text: string, nonFinite: boolean): Member[] | undefined {
  if (text.charCodeAt(0) !== OPEN_BRACE) return undefined;
  const list = new MemberList();
  if (text.charCodeAt(1) === CLOSE_BRACE) return text.length === 2 ? list.members : undefined;
  const pattern = memberPattern(nonFinite);
  if (pattern === null) return undefined;
  pattern.lastIndex = 1;
  for (;;) {
    let match: RegExpExecArray | null;
    try {
      match = pattern.exec(text);
    } catch {
      return undefined; // the engine gave up (its backtrack stack): the scanner has none
    }
    if (match === null) return undefined;
    const quoted = match[1]!;
    list.add(quoted.includes('\\') ? (JSON.parse(quoted) as string) : quoted.slice(1, -1), match[2]!);
    if (match[3] === '}') return pattern.lastIndex === text.length ? list.members : undefined;
  }
}

/** The exact scanner: any JSON (whitespace, any nesting up to MAX_DEPTH), one pass, errors with a position. */
export function scanMembers(text: string, options: ScanOptions): Member[] {
  const { nonFinite } = options;
  let pos = space(text, 0);
  if (text.charCodeAt(pos) !== OPEN_BRACE) {
    skipValue(text, pos, nonFinite); // a valid non-object is "not an object"; invalid text is a syntax error
    throw new TypeError('stored session is not a JSON object');
  }
  const list = new MemberList();
  pos = space(text, pos + 1);
  if (text.charCodeAt(pos) === CLOSE_BRACE) pos++;
  else {
    for (;;) {
      if (text.charCodeAt(pos) !== QUOTE) fail('expected a key', pos);
      const keyEnd = skipString(text, pos);
      const key = keyText(text, pos, keyEnd);
      const colon = space(text, keyEnd);
      if (text.charCodeAt(colon) !== COLON) fail('expected :', colon);
      const start = space(text, colon + 1);
      const end = skipValue(text, start, nonFinite);
      list.add(key, text.slice(start, end));
      pos = space(text, end);
      const next = text.charCodeAt(pos++);
      if (next === CLOSE_BRACE) break;
      if (next !== COMMA) fail('expected , or }', pos - 1);
      pos = space(text, pos);
    }
  }
  if (space(text, pos) !== text.length) fail('extra data', pos);
  return list.members;
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

/** What the value scanner is inside of, per nesting level. */
const IN_OBJECT = 1;
const IN_ARRAY = 2;
const levels = new Uint8Array(MAX_DEPTH + 1);

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function space(text: string, pos: number): number {
  while (isSpace(text.charCodeAt(pos))) pos++;
  return pos;
}

function fail(what: string, pos: number): never {
  throw new StoredTextError(what, pos);
}

/** A string starting at `pos` (its quote); returns the position after the closing quote. */
function skipString(text: string, pos: number): number {
  pos++;
  for (;;) {
    const c = text.charCodeAt(pos);
    if (c === QUOTE) return pos + 1;
    if (c === BACKSLASH) {
      const e = text.charCodeAt(pos + 1);
      if (e === 0x75 /* u */) {
        if (!(isHex(text.charCodeAt(pos + 2)) && isHex(text.charCodeAt(pos + 3)) && isHex(text.charCodeAt(pos + 4)) && isHex(text.charCodeAt(pos + 5)))) {
          fail('invalid \\u escape', pos);
        }
        pos += 6;
      } else if (e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
        pos += 2;
      } else fail('invalid escape', pos);
    } else if (c >= 0x20) pos++;
    else fail(c === c ? 'control character in string' : 'unterminated string', pos);
  }
}

/** A key's decoded text: the slice itself unless it holds escapes. */
function keyText(text: string, start: number, end: number): string {
  const inner = text.slice(start + 1, end - 1);
  return inner.includes('\\') ? (JSON.parse(text.slice(start, end)) as string) : inner;
}

/** `"key"` then `:`; returns the position of the value after it. */
function skipKey(text: string, pos: number): number {
  if (text.charCodeAt(pos) !== QUOTE) fail('expected a key', pos);
  pos = space(text, skipString(text, pos));
  if (text.charCodeAt(pos) !== COLON) fail('expected :', pos);
  return space(text, pos + 1);
}

/**
 * Any JSON value starting at `pos`; returns the position after it. One loop over the text with an
 * explicit stack (no recursion, no call per character), validating the grammar as it goes.
 */
function skipValue(text: string, pos: number, nonFinite: boolean): number {
  let depth = 0;
  for (;;) {
    // A value starts at `pos`.
    const c = text.charCodeAt(pos);
    if (c === QUOTE) pos = skipString(text, pos);
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (depth === MAX_DEPTH) fail('nesting too deep', pos);
      const close = c === OPEN_BRACE ? CLOSE_BRACE : CLOSE_BRACKET;
      pos = space(text, pos + 1);
      if (text.charCodeAt(pos) === close) pos++;
      else {
        levels[depth++] = c === OPEN_BRACE ? IN_OBJECT : IN_ARRAY;
        pos = c === OPEN_BRACE ? skipKey(text, pos) : pos;
        continue;
      }
    } else if (c === 0x74) pos = word(text, pos, 'true');
    else if (c === 0x66) pos = word(text, pos, 'false');
    else if (c === 0x6e) pos = word(text, pos, 'null');
    else if (nonFinite && c === 0x4e) pos = word(text, pos, 'NaN');
    else if (nonFinite && c === 0x49) pos = word(text, pos, 'Infinity');
    else if (nonFinite && c === MINUS && text.charCodeAt(pos + 1) === 0x49) pos = word(text, pos, '-Infinity');
    else if (c === MINUS || (c >= 0x30 && c <= 0x39)) pos = number(text, pos);
    else fail(c === c ? 'unexpected character' : 'unexpected end', pos);
    // After a value: close containers, or move on to the next member / item.
    for (;;) {
      if (depth === 0) return pos;
      pos = space(text, pos);
      const next = text.charCodeAt(pos);
      const level = levels[depth - 1];
      if (next === COMMA) {
        pos = space(text, pos + 1);
        if (level === IN_OBJECT) pos = skipKey(text, pos);
        break;
      }
      if (next === (level === IN_OBJECT ? CLOSE_BRACE : CLOSE_BRACKET)) {
        pos++;
        depth--;
        continue;
      }
      fail(level === IN_OBJECT ? 'expected , or }' : 'expected , or ]', pos);
    }
  }
}

function word(text: string, pos: number, expected: string): number {
  if (!text.startsWith(expected, pos)) fail('unexpected character', pos);
  return pos + expected.length;
}

/** `-?(0|[1-9]\\d*)(\\.\\d+)?([eE][-+]?\\d+)?` */
function number(text: string, pos: number): number {
  if (text.charCodeAt(pos) === MINUS) pos++;
  const first = text.charCodeAt(pos);
  if (first === 0x30) pos++;
  else if (first >= 0x31 && first <= 0x39) pos = digits(text, pos);
  else fail('invalid number', pos);
  if (text.charCodeAt(pos) === 0x2e) {
    const after = digits(text, pos + 1);
    if (after === pos + 1) fail('invalid number', pos);
    pos = after;
  }
  const e = text.charCodeAt(pos);
  if (e === 0x65 || e === 0x45) {
    pos++;
    const sign = text.charCodeAt(pos);
    if (sign === 0x2b || sign === MINUS) pos++;
    const after = digits(text, pos);
    if (after === pos) fail('invalid number', pos);
    pos = after;
  }
  return pos;
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
