/**
 * Small value types for Python values JavaScript has no type for, so that a session written by
 * Quart / Flask reads back and writes out as the same text. Bytes are `Uint8Array` (read as
 * `Buffer`), datetimes are `Date`.
 *
 * They are plain classes whose state is one own enumerable field (a `Tuple` is a frozen array); the
 * session's change detection compares them by that field (see `sameValue` in serializers/entry-codec.ts).
 */

/**
 * A Python tuple (`{" t": [...]}`): a frozen array. It indexes (`t[0]`), iterates, spreads and
 * `Array.isArray`s like an array and `JSON.stringify`s as one, so `ctx.body = session.cart` sends what
 * a client expects; only the tagged JSON serializer tells it from a list. Immutable like Python's:
 * writes throw (in strict code). Methods that build a new array (`map`, `filter`, `slice`...)
 * return plain arrays.
 */
export class Tuple<T = unknown> extends Array<T> {
  // A plain array from map / filter / slice / concat: they would otherwise call `new Tuple(length)`.
  static override get [Symbol.species](): ArrayConstructor {
    return Array;
  }

  constructor(items: Iterable<T> = []) {
    super();
    // One push per item: spreading a large tuple into push() would overflow the argument stack.
    for (const item of items) Array.prototype.push.call(this, item);
    Object.freeze(this);
  }

  static override of<T extends unknown[]>(...items: T): Tuple<T[number]> {
    return new Tuple<T[number]>(items);
  }

  /** `Array.from`, giving a tuple (the inherited one would write into the frozen tuple and throw). */
  static override from<T, U = T>(items: Iterable<T> | ArrayLike<T>, map?: (item: T, index: number) => U, thisArg?: unknown): Tuple<U> {
    return new Tuple<U>(map ? Array.from(items, map, thisArg) : (Array.from(items) as unknown as U[]));
  }

  /** The items as a frozen plain array (what the tuple itself now is; kept for existing code). */
  get items(): readonly T[] {
    return Object.freeze([...this]);
  }
}

/**
 * HTML that is already safe (markupsafe's `Markup`, `{" m": "..."}`). Like Python, any class
 * instance with an `__html__()` method is written with the same tag.
 */
export class Markup {
  readonly html: string;
  constructor(html: string) {
    this.html = String(html);
  }
  __html__(): string {
    return this.html;
  }
  toString(): string {
    return this.html;
  }
  /** `JSON.stringify` gives the HTML text, as a client reading a Python-written session expects. */
  toJSON(): string {
    return this.html;
  }
}

const UUID_TEXT = /^(?:urn:uuid:)?\{?([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})\}?$/i;

/** A Python `uuid.UUID` (`{" u": "<32 hex digits>"}`). Accepts the forms Python's `UUID(str)` does. */
export class UUID {
  /** 32 lowercase hex digits, no dashes: what Python's `UUID.hex` gives and the tag stores. */
  readonly hex: string;
  constructor(text: string) {
    const match = typeof text === 'string' ? UUID_TEXT.exec(text.trim()) : null;
    // The message never repeats the text: it may come from a stored session.
    if (!match) throw new TypeError('badly formed hexadecimal UUID string');
    this.hex = match.slice(1).join('').toLowerCase();
  }
  /** The dashed form, as Python's `str(uuid)`. */
  toString(): string {
    const h = this.hex;
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  toJSON(): string {
    return this.toString();
  }
}

/**
 * A number that Python holds as a `float` where a plain JS number would be written differently:
 * a whole value within ±2^53 (Python writes `1.0`, a JS number `1` would become a Python int), and
 * NaN / ±Infinity (Python writes `NaN`; a plain JS NaN is refused as a likely bug).
 * Reading such floats gives a `PyFloat`; every other float is read as a plain number.
 */
export class PyFloat {
  readonly value: number;
  constructor(value: number) {
    if (typeof value !== 'number') throw new TypeError('PyFloat takes a number');
    this.value = value;
  }
  valueOf(): number {
    return this.value;
  }
  toJSON(): number {
    return this.value;
  }
}
