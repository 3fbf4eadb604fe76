import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  Markup, PyFloat, SessionSerializationError, TaggedJsonSerializer, Tuple, UUID, taggedJsonSerializer as tagged, type JSONTag,
} from 'koa-qsession';
import { anyValue, sessionDict } from '../support/tagged-values.js';

describe('tagged JSON: round trips (fast-check)', () => {
  it('every value of the supported types survives dumps -> loads', () => {
    fc.assert(fc.property(sessionDict, (dict) => {
      assert.deepStrictEqual(tagged.loads(tagged.dumps(dict)), dict);
    }), { numRuns: 300 });
  });

  it('dumps(loads(dumps(x))) === dumps(x)', () => {
    fc.assert(fc.property(sessionDict, (dict) => {
      const text = tagged.dumps(dict);
      assert.equal(tagged.dumps(tagged.loads(text)), text);
    }), { numRuns: 300 });
  });

  it('writes ASCII only, whatever the value', () => {
    fc.assert(fc.property(anyValue, (value) => {
      assert.match(tagged.dumps({ value }), /^[\x20-\x7e]*$/);
    }), { numRuns: 200 });
  });

  it('reads stored bytes as well as text', () => {
    const text = tagged.dumps({ a: Tuple.of(1) });
    assert.deepStrictEqual(tagged.loads(Buffer.from(text)), { a: Tuple.of(1) });
  });
});

describe('tagged JSON: loads on arbitrary input (fuzz)', () => {
  const check = (text: string): void => {
    let value: unknown;
    try {
      value = tagged.loads(text);
    } catch (error) {
      assert.ok(error instanceof Error, `throws a non-Error: ${String(error)}`);
      return;
    }
    assert.ok(value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype, 'returns a plain object');
  };
  const tagKey = fc.constantFrom(' t', ' b', ' m', ' u', ' d', ' di', ' x');
  const taggedish = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small' }, fc.jsonValue(), tie('tagged')),
    tagged: fc.tuple(tagKey, tie('node')).map(([key, inner]) => ({ [key]: inner })),
  })).node;

  it('arbitrary strings', () => fc.assert(fc.property(fc.string({ unit: 'binary' }), check), { numRuns: 500 }));
  it('arbitrary JSON', () => fc.assert(fc.property(fc.json(), check), { numRuns: 500 }));
  it('arbitrary tag-shaped JSON', () => fc.assert(fc.property(taggedish, (v) => check(JSON.stringify({ k: v }))), { numRuns: 500 }));
  it('mutated session texts', () => {
    fc.assert(fc.property(sessionDict, fc.nat(), fc.string({ maxLength: 3 }), (dict, at, insert) => {
      const text = tagged.dumps(dict);
      const i = at % (text.length + 1);
      check(text.slice(0, i) + insert + text.slice(i + 1));
    }), { numRuns: 500 });
  });
  it('very deep nesting throws instead of overflowing the stack', () => {
    assert.throws(() => tagged.loads('{"a":' + '['.repeat(100_000)), SyntaxError);
  });
  it('error messages never repeat the stored text', () => {
    for (const text of ['{"secret-token": x}', '{"secret-token": {" u": "secret-token"}}', '{"a": {" d": "secret-token"}}', '["secret-token"]']) {
      assert.throws(() => tagged.loads(text), (error: Error) => !error.message.includes('secret'));
    }
  });
});

describe('tagged JSON: values only one side has', () => {
  const refuses = (value: unknown, path: string, why: RegExp): void => {
    assert.throws(() => tagged.dumps({ cart: { items: [1, 2, value] } }), (error: unknown) => {
      assert.ok(error instanceof SessionSerializationError, `not a SessionSerializationError: ${String(error)}`);
      assert.equal(error.path, `cart.items[2]${path}`);
      assert.match(error.message, why);
      return true;
    });
  };
  it('undefined is written as JSON.stringify writes it: members left out, null in arrays', () => {
    const value = { a: undefined, b: [undefined, 1], c: { d: undefined }, ' t': undefined, e: { ' t': undefined } };
    assert.equal(tagged.dumps(value), JSON.stringify(value));
    assert.equal(tagged.dumps(value), '{"b":[null,1],"c":{},"e":{}}');
  });
  it('functions, symbols', () => {
    refuses(() => 1, '', /function/);
    refuses(Symbol('x'), '', /symbol/);
    refuses({ [Symbol('k')]: 1 }, '', /symbol keys/);
  });
  it('NaN and Infinity as plain numbers (PyFloat stores them)', () => {
    refuses(NaN, '', /NaN.*PyFloat/);
    refuses(-Infinity, '', /-Infinity/);
    assert.equal(tagged.dumps({ n: new PyFloat(NaN), i: new PyFloat(-Infinity) }), '{"n":NaN,"i":-Infinity}');
  });
  it('Map, Set, class instances, typed arrays other than bytes', () => {
    refuses(new Map(), '', /a Map has no tag/);
    refuses(new Set([1]), '', /a Set has no tag/);
    class Cart { items = [] }
    refuses(new Cart(), '', /a Cart has no tag/);
    refuses(new Int16Array(2), '', /Int16Array/);
    refuses(Object.create({ inherited: 1 }) as object, '', /custom prototype/);
  });
  it('cycles, naming where the cycle closes', () => {
    const node: Record<string, unknown> = { name: 'a' };
    node.self = { again: node };
    refuses(node, '.self.again', /cycle/);
    const list: unknown[] = [];
    list.push(Tuple.of(list));
    refuses(list, '[0]', /cycle/);
  });
  it('paths quote keys that are not identifiers', () => {
    assert.throws(() => tagged.dumps({ 'dark mode': [{ ' t': () => 1 }] }), { path: '["dark mode"][0][" t"]' });
  });
  it('invalid dates and dates outside Python\'s years 1-9999', () => {
    refuses(new Date(NaN), '', /invalid Date/);
    refuses(new Date('+010000-01-01T00:00:00Z'), '', /years 1 to 9999/);
    refuses(new Date('0000-12-31T23:59:59Z'), '', /years 1 to 9999/);
  });
  it('dates keep whole seconds: milliseconds are dropped (floored, as Python drops microseconds)', () => {
    assert.equal(tagged.dumps({ d: new Date('2024-01-02T03:04:05.999Z') }), '{"d":{" d":"Tue, 02 Jan 2024 03:04:05 GMT"}}');
    assert.equal(tagged.dumps({ d: new Date('1969-12-31T23:59:59.500Z') }), '{"d":{" d":"Wed, 31 Dec 1969 23:59:59 GMT"}}');
  });
  it('numbers: safe integers are Python ints, every other number a Python float; BigInt is an int', () => {
    assert.equal(tagged.dumps({ a: 3, b: 3.5, c: -0, d: 2 ** 60, e: 2n ** 60n, f: 7n, g: new PyFloat(3) }),
      '{"a":3,"b":3.5,"c":-0.0,"d":1.152921504606847e+18,"e":1152921504606846976,"f":7,"g":3.0}');
    assert.deepStrictEqual(tagged.loads('{"a":3,"b":3.0,"c":9007199254740993,"d":-0,"e":1e2,"f":1E400}'),
      { a: 3, b: new PyFloat(3), c: 9007199254740993n, d: 0, e: new PyFloat(100), f: new PyFloat(Infinity) });
  });
  it('reads the ISO datetimes Quart 0.18 writes, and other HTTP date forms', () => {
    const read = (text: string): number => (tagged.loads(JSON.stringify({ d: { ' d': text } })).d as Date).getTime();
    const t = Date.parse('2024-01-02T03:04:05Z');
    assert.equal(read('2024-01-02T05:04:05.000000+02:00'), t);
    assert.equal(read('2024-01-02T03:04:05.123456'), t + 123);
    assert.equal(read('2024-01-02T03:04:05Z'), t);
    assert.equal(read('2024-01-02 03:04:05+00:00'), t);
    assert.equal(read('Tue, 02 Jan 2024 03:04:05 GMT'), t);
    assert.equal(read('02 Jan 2024 04:04:05 +0100'), t);
    assert.equal(read('2024-01-02'), Date.parse('2024-01-02T00:00:00Z'));
    assert.throws(() => read('yesterday'), RangeError);
    assert.throws(() => read('2024-02-30T00:00:00'), RangeError);
  });
  it('value types: Tuple is immutable and iterable, UUID accepts Python\'s forms, Markup carries __html__', () => {
    const t = Tuple.of(1, 'a');
    assert.deepStrictEqual([...t], [1, 'a']);
    assert.throws(() => (t.items as unknown[]).push(2), TypeError);
    assert.equal(new UUID('urn:uuid:B8EBBF02-CC7A-4B0B-824F-22A984C8C0B8').toString(), 'b8ebbf02-cc7a-4b0b-824f-22a984c8c0b8');
    assert.throws(() => new UUID('not-a-uuid'), TypeError);
    const html = { __html__: () => '<i>x</i>' };
    class Safe { __html__(): string { return '<i>y</i>'; } }
    assert.equal(tagged.dumps({ a: new Markup('<b>'), b: new Safe() }), '{"a":{" m":"<b>"},"b":{" m":"<i>y</i>"}}');
    assert.throws(() => tagged.dumps({ c: html }), SessionSerializationError); // a plain object is a dict, as in Python
  });
});

describe('tagged JSON: custom tags', () => {
  class Money {
    constructor(readonly cents: bigint, readonly currency: string) {}
  }
  const moneyTag: JSONTag<Money> = {
    key: ' money',
    check: (value): value is Money => value instanceof Money,
    toJSON: (value, tag) => [tag(value.cents), value.currency],
    toPython: (value) => {
      const [cents, currency] = value as [bigint | number, string];
      return new Money(BigInt(cents), currency);
    },
  };

  it('are written and read like Flask\'s JSONTag, and escaped with " di" like built-in tags', () => {
    const s = new TaggedJsonSerializer({ tags: [moneyTag] });
    const dict = { price: new Money(2n ** 70n, 'EUR'), literal: { ' money': 1 } };
    const text = s.dumps(dict);
    assert.equal(text, '{"price":{" money":[1180591620717411303424,"EUR"]},"literal":{" di":{" money__":1}}}');
    assert.deepStrictEqual(s.loads(text), dict);
  });
  it('an unknown tag reads back as a plain object, as in Python', () => {
    assert.deepStrictEqual(tagged.loads('{"price":{" money":[5,"EUR"]}}'), { price: { ' money': [5, 'EUR'] } });
  });
  it('register() refuses a taken key unless forced, and can insert before the built-ins', () => {
    const s = new TaggedJsonSerializer();
    assert.throws(() => s.register({ ...moneyTag, key: ' t' }), /already registered/);
    const shout: JSONTag<string> = { key: ' s', check: (v): v is string => typeof v === 'string' && v.startsWith('!'), toJSON: (v) => v.slice(1), toPython: (v) => `!${String(v)}` };
    s.register(shout, { index: 0 });
    assert.equal(s.dumps({ a: '!hi', b: 'hi' }), '{"a":{" s":"hi"},"b":"hi"}');
    assert.deepStrictEqual(s.loads('{"a":{" s":"hi"}}'), { a: '!hi' });
  });
  it('the shared default cannot be changed', () => {
    assert.throws(() => tagged.register(moneyTag), /cannot take tags/);
  });
  it('a toJSON that returns something that is not plain JSON is refused with the path', () => {
    const bad: JSONTag<Money> = { ...moneyTag, toJSON: (value) => ({ when: new Date(), cents: value.cents }) };
    const s = new TaggedJsonSerializer({ tags: [bad] });
    assert.throws(() => s.dumps({ p: new Money(1n, 'EUR') }), { path: 'p.when', message: /toJSON returned a Date/ });
  });
});
