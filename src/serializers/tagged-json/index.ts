import { SessionOptionsError, SessionSerializationError } from '../../errors.js';
import { toText, type StoredValue } from '../../stored-value.js';
import { assertNesting, encodeWithinStack, MAX_NESTING } from '../nesting.js';
import { describeValue, indexPath, isPlainObject, keyPath } from '../path.js';
import { parsePyJson, pyFloat, pyString, setMember, type NumberLiteral } from './py-json.js';
import { joinMembers, prepareMembers, splitMembers } from '../members.js';
import { nativeJsonParseIsSafe, runtimeJsonDefect } from '../runtime-json.js';
import type { KeyedSerializer } from '../serializer.js';
import { DATE_FORMATS, type DateFormat } from './dates.js';
import { BUILTIN_TAGS, dateTag, type JSONTag } from './tags.js';
import { PyFloat } from './values.js';

export interface TaggedJsonOptions {
  /** Tags of your own, registered after the built-in ones (Flask's `JSONTag`). */
  tags?: readonly JSONTag[];
  /**
   * How dates are written: `'http'` (default; Flask's form, an aware datetime to Python) or
   * `'naive-utc'` (Quart 0.18's `utcnow().isoformat()`, a naive datetime its date arithmetic needs).
   * See docs/python-interop.md.
   */
  dates?: DateFormat;
}

/** A bad `dates` fails when the serializer is built, at start-up, naming the option. */
function checkDateFormat(value: unknown): DateFormat {
  if (value === undefined) return 'http';
  if ((DATE_FORMATS as readonly unknown[]).includes(value)) return value as DateFormat;
  const got = typeof value === 'string' ? JSON.stringify(value) : typeof value;
  throw new SessionOptionsError('dates', `of TaggedJsonSerializer must be ${DATE_FORMATS.map((f) => `"${f}"`).join(' or ')} (got ${got})`);
}

export interface RegisterOptions {
  /** Replace a tag already registered under the same key (Flask's `force`). */
  force?: boolean;
  /** Position in the encoder's order (Flask's `index`); default: last. */
  index?: number;
}

/** The encoder's order, as Flask's `TaggedJSONSerializer.order`: the first step whose check matches wins. */
type Step = { kind: 'dict' } | { kind: 'list' } | { kind: 'tag'; tag: JSONTag };

/** Text already encoded by this serializer, handed back to custom tags by their `tag` callback. */
class Encoded {
  constructor(readonly text: string) {}
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Quart / Flask's tagged JSON, byte for byte: what `TaggedJSONSerializer().dumps` writes for the
 * same value, and everything it writes is read. The rules for values only one side has are in the
 * README ("Serializers and sharing sessions with Python").
 */
export class TaggedJsonSerializer implements KeyedSerializer {
  readonly name: string = 'tagged-json';
  private readonly tags = new Map<string, JSONTag>();
  private readonly order: Step[] = [];
  /**
   * Every tag key starts with a space and no tag was put before the dict and list steps (Flask's
   * tags, and tags of your own registered without `index`): then text without `" ` holds no tag,
   * and a tree of plain data encodes as plain JSON (the fast paths below).
   */
  private plain = true;

  /** How this serializer writes dates (`" d"`); every form is read whatever this says. */
  readonly dates: DateFormat;

  constructor(options: TaggedJsonOptions = {}) {
    this.dates = checkDateFormat(options.dates);
    this.register(this.dictTag());
    this.order.push({ kind: 'dict' });
    this.register(BUILTIN_TAGS[0]!);
    this.order.push({ kind: 'list' });
    for (const tag of BUILTIN_TAGS.slice(1)) this.register(tag.key === ' d' ? dateTag(this.dates) : tag);
    for (const tag of options.tags ?? []) this.register(tag);
  }

  register(tag: JSONTag, options: RegisterOptions = {}): this {
    if (typeof tag?.key !== 'string' || typeof tag.check !== 'function' || typeof tag.toJSON !== 'function' || typeof tag.toPython !== 'function') {
      throw new TypeError('a tag needs a string key and check / toJSON / toPython functions');
    }
    if (this.tags.has(tag.key) && !options.force) throw new Error(`tag ${JSON.stringify(tag.key)} is already registered`);
    this.tags.set(tag.key, tag);
    if (!tag.key.startsWith(' ') || options.index !== undefined) this.plain = false;
    const step: Step = { kind: 'tag', tag };
    if (options.index === undefined) this.order.push(step);
    else this.order.splice(options.index, 0, step);
    return this;
  }

  dumps(data: Record<string, unknown>): string {
    try {
      const text = encodeWithinStack('', () => this.encode(data, '', new Set()));
      assertNesting(text, '');
      return text;
    } catch (error) {
      if (!(error instanceof SessionSerializationError) || error.path !== '') throw error;
      // Too deep: name the key (on this error path only, so a normal write pays one scan).
      for (const key of Object.keys(data)) {
        const path = keyPath('', key);
        assertNesting(encodeWithinStack(path, () => this.encode(data[key], path, new Set())), path, 1);
      }
      throw error;
    }
  }

  loads(stored: StoredValue): Record<string, unknown> {
    const text = toText(stored);
    const value = MAYBE_LOSSY_FOR_JSON_PARSE.test(text) ? this.parseExactly(text) : this.parseFast(text);
    if (!isPlainObject(value)) throw new TypeError('stored session is not a JSON object');
    return value;
  }

  /**
   * The member scanner's native pattern, compiled now rather than on the first load (see prepareMembers),
   * and the runtime's JSON.parse checked now, so its warning (if any) comes at start-up (runtime-json.ts).
   */
  prepare(): void {
    prepareMembers({ nonFinite: true });
    runtimeJsonDefect();
  }

  entries(stored: StoredValue): Array<[string, string]> {
    const text = toText(stored);
    const members = splitMembers(text, { nonFinite: true });
    // A dict whose only key is a tag key is stored wrapped in ` di`, and an object whose only key is
    // another tag is a tagged value, not a dict: both go through the whole-text decoder (rare).
    if (members.length === 1 && this.tags.has(members[0]![0])) {
      const dict = this.loads(text);
      return Object.keys(dict).map((key) => [key, this.encodeValue(dict[key], key)]);
    }
    return members;
  }

  decodeValue(raw: string): unknown {
    // The shapes most session values have, without a parser; `raw` comes from `entries` (valid JSON).
    const first = raw.charCodeAt(0);
    if (first === 0x22 /* " */ && !raw.includes('\\')) return raw.slice(1, -1);
    if (raw === 'true') return true;
    if (raw === 'false') return false;
    if (raw === 'null') return null;
    if (raw.length < 16 && SMALL_INT.test(raw)) return Number(raw) || 0; // `|| 0`: Python's int -0 is 0
    return MAYBE_LOSSY_FOR_JSON_PARSE.test(raw) ? this.parseExactly(raw) : this.parseFast(raw);
  }

  encodeValue(value: unknown, key: string): string {
    // Plain data (most session values): written without the encoder's bookkeeping (paths, the cycle
    // set, the tag order); anything else, or anything that would fail, goes the full way below.
    if (this.plain) {
      const text = this.encodePlain(value, 0);
      if (text !== undefined) return text;
    }
    const path = keyPath('', key);
    const text = encodeWithinStack(path, () => this.encode(value, path, new Set()));
    // Deeper than the decoder reads needs at least MAX_NESTING brackets: shorter text needs no scan.
    if (text.length >= MAX_NESTING) assertNesting(text, path, 1);
    return text;
  }

  assemble(entries: Iterable<readonly [string, string]>): string {
    const list = Array.isArray(entries) ? (entries as readonly (readonly [string, string])[]) : [...entries];
    // What `dumps` does for a dict whose only key is a tag key (` di` escaping).
    if (list.length === 1 && this.tags.has(list[0]![0])) return `{${pyString(' di')}:{${pyString(`${list[0]![0]}__`)}:${list[0]![1]}}}`;
    return joinMembers(list, pyString);
  }

  /** Python's reading of every number; error messages give a position, never the text. */
  private parseExactly(text: string): unknown {
    return parsePyJson(text, { onNumber: readNumber, onObject: (object) => this.untag(object) });
  }

  /**
   * The common case (strings, small ints, booleans): the native parser is several times faster, and
   * its reviver runs bottom-up like Python's object_hook. Its error messages quote the input (session
   * data, bound for logs), so on any error the exact parser reads the text again and reports instead.
   */
  /**
   * What `encode` writes for strings, safe integers, booleans, null and plain objects and arrays of
   * them (a tag-keyed dict excepted: it needs ` di`); undefined for anything else.
   */
  private encodePlain(value: unknown, depth: number): string | undefined {
    switch (typeof value) {
      case 'string':
        return pyString(value);
      case 'boolean':
        return value ? 'true' : 'false';
      case 'number':
        return Number.isSafeInteger(value) && !Object.is(value, -0) ? String(value) : undefined;
      case 'object': {
        if (value === null) return 'null';
        if (depth >= PLAIN_DEPTH) return undefined;
        const proto = Object.getPrototypeOf(value) as unknown;
        if (proto === Array.prototype) {
          const list = value as readonly unknown[];
          let out = '[';
          for (let i = 0; i < list.length; i++) {
            const item = list[i];
            const text = item === undefined ? 'null' : this.encodePlain(item, depth + 1);
            if (text === undefined) return undefined;
            out += i === 0 ? text : `,${text}`;
          }
          return `${out}]`;
        }
        if (proto !== Object.prototype && proto !== null) return undefined;
        const dict = value as Record<string, unknown>;
        const keys = Object.keys(dict);
        if (keys.length === 1 && this.tags.has(keys[0]!)) return undefined;
        if (Object.getOwnPropertySymbols(dict).length > 0) return undefined;
        let out = '{';
        let first = true;
        for (const key of keys) {
          const member = dict[key];
          if (member === undefined) continue;
          const text = this.encodePlain(member, depth + 1);
          if (text === undefined) return undefined;
          out += `${first ? '' : ','}${pyString(key)}:${text}`;
          first = false;
        }
        return `${out}}`;
      }
      default:
        return undefined;
    }
  }

  private parseFast(text: string): unknown {
    // No `" ` (and no `\u` that could spell one): no key starts with a space, so no tag to read, and
    // the engine's parser needs no reviver (a reviver costs a call per node).
    if (this.plain && !text.includes('" ') && !text.includes('\\u') && (nativeJsonParseIsSafe() || !text.includes('\\'))) {
      try {
        return JSON.parse(text);
      } catch {
        return this.parseExactly(text);
      }
    }
    // A runtime whose JSON.parse re-keys objects (Node 24.21, see runtime-json.ts) gets no text in
    // which a key can be written with an escape: no backslash, no escaped key.
    if (!nativeJsonParseIsSafe() && text.includes('\\')) return this.parseExactly(text);
    try {
      return JSON.parse(text, (_key, member: unknown) => (isPlainObject(member) ? this.untag(member) : member));
    } catch {
      return this.parseExactly(text);
    }
  }

  /** ` di`: a dict whose only key is a tag key would read back as that tag, so its key is escaped. */
  private dictTag(): JSONTag<Record<string, unknown>> {
    return {
      key: ' di',
      check: (value): value is Record<string, unknown> => {
        if (!isPlainObject(value)) return false;
        const keys = Object.keys(value);
        // `{ " t": undefined }` is written as `{}` (undefined members are left out), so it needs no escape.
        return keys.length === 1 && this.tags.has(keys[0]!) && value[keys[0]!] !== undefined;
      },
      toJSON: (value, tag) => {
        const key = Object.keys(value)[0]!;
        return withMember({}, `${key}__`, tag(value[key]));
      },
      toPython: (value) => {
        const key = isPlainObject(value) ? Object.keys(value)[0] : undefined;
        if (key === undefined) throw new TypeError('" di" holds no object with a key');
        return withMember({}, key.slice(0, -2), (value as Record<string, unknown>)[key]);
      },
    };
  }

  /** Python's `untag`, run on every object once its children are decoded. */
  private untag(object: Record<string, unknown>): unknown {
    const keys = Object.keys(object);
    if (keys.length !== 1) return object;
    const tag = this.tags.get(keys[0]!);
    return tag ? tag.toPython(object[keys[0]!]) : object;
  }

  private encode(value: unknown, path: string, seen: Set<object>): string {
    const isObject = typeof value === 'object' && value !== null;
    if (isObject) {
      if (seen.has(value)) throw new SessionSerializationError(path, 'the value contains a cycle');
      if (isPlainObject(value) && Object.getOwnPropertySymbols(value).length > 0) {
        throw new SessionSerializationError(path, 'symbol keys cannot be stored');
      }
      seen.add(value);
    }
    try {
      for (const step of this.order) {
        if (step.kind === 'dict') {
          if (isPlainObject(value)) return this.encodeDict(value, path, seen);
        } else if (step.kind === 'list') {
          if (Array.isArray(value)) return this.encodeList(value, path, seen);
        } else if (step.tag.check(value)) {
          // ` di` reports its child under the child's key; other tags' children under the tagged value.
          const childPath = step.tag.key === ' di' ? keyPath(path, Object.keys(value as object)[0]!) : path;
          const inner = this.tagValue(step.tag, value, childPath, path, seen);
          return `{${pyString(step.tag.key)}:${this.writeData(inner, path, new Set())}}`;
        }
      }
      return encodeScalar(value, path);
    } finally {
      if (isObject) seen.delete(value);
    }
  }

  /** A tag's own failure (an invalid Date, say) becomes a SessionSerializationError naming the path. */
  private tagValue(tag: JSONTag, value: unknown, childPath: string, path: string, seen: Set<object>): unknown {
    try {
      return tag.toJSON(value, (child) => new Encoded(this.encode(child, childPath, seen)));
    } catch (error) {
      if (error instanceof SessionSerializationError) throw error;
      throw new SessionSerializationError(path, error instanceof Error ? error.message : String(error), { cause: error });
    }
  }

  /** A member whose value is `undefined` is left out, as `JSON.stringify` does. */
  private encodeDict(value: Record<string, unknown>, path: string, seen: Set<object>): string {
    const members: string[] = [];
    for (const key of Object.keys(value)) {
      const member = value[key];
      if (member !== undefined) members.push(`${pyString(key)}:${this.encode(member, keyPath(path, key), seen)}`);
    }
    return `{${members.join(',')}}`;
  }

  /** `undefined` (and a hole) in an array is written as null, as `JSON.stringify` does. */
  private encodeList(value: readonly unknown[], path: string, seen: Set<object>): string {
    const items: string[] = [];
    for (let i = 0; i < value.length; i++) items.push(value[i] === undefined ? 'null' : this.encode(value[i], indexPath(path, i), seen));
    return `[${items.join(',')}]`;
  }

  /** A tag's `toJSON` result: plain JSON data, written as is (Python's `json.dumps` of the tagged tree). */
  private writeData(value: unknown, path: string, seen: Set<object>): string {
    if (value instanceof Encoded) return value.text;
    if (typeof value !== 'object' || value === null || value instanceof PyFloat) return encodeScalar(value, path);
    if (seen.has(value)) throw new SessionSerializationError(path, 'the value contains a cycle');
    seen.add(value);
    let text: string;
    if (Array.isArray(value)) text = `[${value.map((item, i) => this.writeData(item, indexPath(path, i), seen)).join(',')}]`;
    else if (isPlainObject(value)) {
      text = `{${Object.keys(value).map((key) => `${pyString(key)}:${this.writeData(value[key], keyPath(path, key), seen)}`).join(',')}}`;
    } else throw new SessionSerializationError(path, `a tag's toJSON returned ${describeValue(value)}, which is not plain JSON`);
    seen.delete(value);
    return text;
  }
}

/** Strings, booleans, null, numbers (see PyFloat for the int / float rule), BigInt as a Python int. */
function encodeScalar(value: unknown, path: string): string {
  switch (typeof value) {
    case 'string':
      return pyString(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'number':
      if (!Number.isFinite(value)) {
        throw new SessionSerializationError(path, `${value} is not stored as a plain number (wrap it as new PyFloat(${value}) to store a Python float)`);
      }
      // A safe integer is a Python int; any other number (fractions, -0, beyond 2^53) a Python float.
      return Number.isSafeInteger(value) && !Object.is(value, -0) ? String(value) : pyFloat(value);
    case 'object':
      if (value === null) return 'null';
      if (value instanceof PyFloat) return pyFloat(value.value);
      throw new SessionSerializationError(path, `${describeValue(value)} has no tag (use a plain object or array, or register a JSONTag)`);
    default:
      throw new SessionSerializationError(path, `${describeValue(value)} cannot be stored in a session`);
  }
}

/** Python's int / float distinction, kept: see PyFloat. Integers beyond 2^53 are BigInt. */
/**
 * Text where `JSON.parse` could read a number differently from Python: floats (`1.0` must stay a
 * `PyFloat`), exponents, integers of 16 digits or more (beyond 2^53), `-0`, `NaN` and `Infinity`.
 * A match anywhere, even inside a string, just sends the text to the exact parser.
 */
const MAYBE_LOSSY_FOR_JSON_PARSE = /\d[.eE]|\d{16}|-0|NaN|Infinity/;
/** Deeper plain data goes the full way (its nesting check, its cycle check). */
const PLAIN_DEPTH = 64;
const SMALL_INT = /^-?(?:0|[1-9]\d*)$/;

function readNumber({ text, isInt }: NumberLiteral): unknown {
  if (isInt) {
    if (text.length < 16) return Number(text) || 0; // `|| 0`: Python's int -0 is 0
    const big = BigInt(text);
    return big <= MAX_SAFE && big >= -MAX_SAFE ? Number(big) : big;
  }
  const value = Number(text);
  if (!Number.isFinite(value) || (Number.isSafeInteger(value) && !Object.is(value, -0))) return new PyFloat(value);
  return value;
}

function withMember(object: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  setMember(object, key, value);
  return object;
}

/** A serializer whose tag set cannot change, so registering on the shared default fails loudly. */
class DefaultTaggedJsonSerializer extends TaggedJsonSerializer {
  private readonly ready: boolean = true;
  override register(tag: JSONTag, options?: RegisterOptions): this {
    if (this.ready) throw new Error('the shared taggedJsonSerializer cannot take tags: create new TaggedJsonSerializer({ tags })');
    return super.register(tag, options);
  }
}

/** The default serializer (`serializer: 'tagged-json'`). */
export const taggedJsonSerializer: TaggedJsonSerializer = new DefaultTaggedJsonSerializer();
