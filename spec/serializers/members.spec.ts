/**
 * The key-granular capability of the text serializers: splitting a stored object into members
 * (values as their exact text) and assembling them back is the identity on what dumps writes, and
 * invalid text fails with a typed error, never with a partial result.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { jsonSerializer, taggedJsonSerializer as tagged } from 'koa-qsession';
import { memberPattern } from '../../src/serializers/member-pattern.js';
import { matchMembers, scanMembers, splitMembers, StoredTextError, WARM_UP_TEXT } from '../../src/serializers/members.js';
import { anyValue, sessionDict } from '../support/tagged-values.js';

const runs = { numRuns: 400, seed: 13 };

describe('key-granular serializers: entries / assemble', () => {
  it('tagged JSON: assemble(entries(dumps(d))) is dumps(d), byte for byte, and each member decodes to its value', () => {
    fc.assert(
      fc.property(sessionDict, (dict) => {
        const text = tagged.dumps(dict);
        const entries = tagged.entries(text);
        assert.equal(tagged.assemble(entries), text);
        const whole = tagged.loads(text);
        assert.deepStrictEqual(entries.map(([key]) => key), Object.keys(whole));
        for (const [key, raw] of entries) {
          assert.deepStrictEqual(tagged.decodeValue(raw), whole[key]);
          assert.equal(tagged.encodeValue(whole[key], key), raw);
        }
      }),
      runs,
    );
  });

  it('JSON: the same identity on any JSON object text', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue(), { noNullPrototype: true }), (dict) => {
        const text = JSON.stringify(dict);
        const entries = jsonSerializer.entries(text);
        assert.equal(jsonSerializer.assemble(entries), text);
        for (const [key, raw] of entries) assert.deepStrictEqual(jsonSerializer.decodeValue(raw), JSON.parse(text)[key]);
      }),
      runs,
    );
  });

  it('whitespace, Python spellings and nesting are read; a member keeps its exact text', () => {
    const text = ' { "a" : 1.0 , "b":[ 1 ,{"c":"}\\"]"}] ,\n"d":{" d":"2024-01-02T03:04:05.123456"},"e":1e+300,"f":NaN,"g":-Infinity}';
    assert.deepEqual(tagged.entries(text), [
      ['a', '1.0'], ['b', '[ 1 ,{"c":"}\\"]"}]'], ['d', '{" d":"2024-01-02T03:04:05.123456"}'], ['e', '1e+300'], ['f', 'NaN'], ['g', '-Infinity'],
    ]);
    assert.equal(tagged.assemble(tagged.entries(text)), '{"a":1.0,"b":[ 1 ,{"c":"}\\"]"}],"d":{" d":"2024-01-02T03:04:05.123456"},"e":1e+300,"f":NaN,"g":-Infinity}');
  });

  it('a duplicated key keeps its last value at its first position (as JSON.parse and Python read it)', () => {
    const text = '{"a":1,"b":2,"a":3}';
    assert.deepEqual(tagged.entries(text), [['a', '3'], ['b', '2']]);
    assert.deepEqual(Object.entries(JSON.parse(text)), [['a', 3], ['b', 2]]);
    const many = `{${Array.from({ length: 20 }, (_, i) => `"k${i % 12}":${i}`).join(',')}}`;
    assert.deepEqual(Object.fromEntries(tagged.entries(many)), Object.fromEntries(Object.entries(JSON.parse(many)).map(([k, v]) => [k, String(v)])));
    assert.deepEqual(tagged.entries(many).map(([k]) => k), Object.keys(JSON.parse(many)));
  });

  it('escaped keys are decoded, and written back as Python writes them', () => {
    const text = '{"\\u00e9":1,"a\\"b":2,"__proto__":3}';
    assert.deepEqual(tagged.entries(text).map(([k]) => k), ['é', 'a"b', '__proto__']);
    assert.equal(tagged.assemble(tagged.entries(text)), text);
  });

  it('a dict whose only key is a tag key goes through " di" both ways', () => {
    const text = tagged.dumps({ ' t': [1, 2] });
    assert.equal(text, '{" di":{" t__":[1,2]}}');
    assert.deepEqual(tagged.entries(text), [[' t', '[1,2]']]);
    assert.equal(tagged.assemble(tagged.entries(text)), text);
    assert.throws(() => tagged.entries('{" t":[1]}'), TypeError, 'a tagged tuple is not a dict');
  });

  it('anything but an object is refused with a TypeError; invalid text with a StoredTextError naming no content', () => {
    for (const text of ['[]', '"x"', '1', 'null']) assert.throws(() => tagged.entries(text), TypeError);
    for (const text of ['', '{', '{"a":}', '{"a":1,}', '{"a":1}}', '{"a":01}', '{"a":"\\x"}', '{"a":tru}', '{"secret":[1,]}', '{"a":"\u0001"}', '{a:1}']) {
      assert.throws(() => tagged.entries(text), (error: unknown) => error instanceof StoredTextError && !error.message.includes('secret'), text);
    }
    assert.throws(() => jsonSerializer.entries('{"a":NaN}'), StoredTextError, 'plain JSON has no NaN');
  });

  it('agrees with JSON.parse on mutated texts: valid ones split, invalid ones throw, nothing in between', () => {
    const mutated = fc
      .tuple(fc.dictionary(fc.string(), fc.jsonValue(), { minKeys: 1, noNullPrototype: true }), fc.nat(), fc.constantFrom('', '"', ',', '}', ']', '{', ':', '\\', '1', ' ', 'e', '.', '-'), fc.boolean())
      .map(([dict, at, insert, remove]) => {
        const text = JSON.stringify(dict);
        const i = at % (text.length + 1);
        return remove ? text.slice(0, i) + text.slice(i + 1) : text.slice(0, i) + insert + text.slice(i);
      });
    fc.assert(
      fc.property(mutated, (text) => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          assert.throws(() => jsonSerializer.entries(text), (error: unknown) => error instanceof StoredTextError || error instanceof TypeError);
          return;
        }
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
          assert.throws(() => jsonSerializer.entries(text), TypeError);
          return;
        }
        const entries = jsonSerializer.entries(text);
        assert.deepStrictEqual(JSON.parse(jsonSerializer.assemble(entries) as string), parsed);
      }),
      { numRuns: 1000, seed: 7 },
    );
  });

  it('decodeValue reads any value the way loads reads it inside a dict', () => {
    fc.assert(
      fc.property(anyValue, (value) => {
        const raw = tagged.encodeValue(value, 'k');
        assert.deepStrictEqual(tagged.decodeValue(raw), tagged.loads(`{"k":${raw}}`).k);
      }),
      runs,
    );
  });
});

/** Every way a JSON text can be split: the exact scanner's answer, or its error's type. */
function scanned(text: string, nonFinite: boolean): unknown {
  try {
    return scanMembers(text, { nonFinite });
  } catch (error) {
    assert.ok(error instanceof StoredTextError || error instanceof TypeError, String(error));
    return error.constructor;
  }
}

/** A text with one character inserted or removed (what storage corruption or a foreign writer may leave). */
function mutate(text: string, at: number, insert: string, remove: boolean): string {
  const i = at % (text.length + 1);
  return remove ? text.slice(0, i) + text.slice(i + 1) : text.slice(0, i) + insert + text.slice(i);
}
const mutation = fc.tuple(fc.nat(), fc.constantFrom('', '"', ',', '}', ']', '{', '[', ':', '\\', '\\u', '1', ' ', 'e', '.', '-', '0', 'N', 'NaN', 'I', '\u0001', '\n', 'x'), fc.boolean());

/**
 * A member list with repeated keys, each occurrence spelled plainly or with a \\u escape for one of
 * its characters: `"counter"` and `"\u0063ounter"` are the same key.
 */
const duplicated = fc
  .array(fc.tuple(fc.constantFrom('counter', 'user', 'a"b', 'é', '_permanent'), fc.nat(), fc.boolean(), fc.jsonValue({ maxDepth: 3 })), { minLength: 1, maxLength: 12 })
  .map((members) =>
    `{${members
      .map(([key, at, escape, value]) => {
        let quoted = JSON.stringify(key);
        if (escape) {
          const i = at % key.length;
          quoted = JSON.stringify(key.slice(0, i)).slice(0, -1) + `\\u${key.charCodeAt(i).toString(16).padStart(4, '0')}` + JSON.stringify(key.slice(i + 1)).slice(1);
        }
        return `${quoted}:${JSON.stringify(value)}`;
      })
      .join(',')}}`,
  );

// V8 only (see member-pattern.ts): elsewhere every text goes through the scanner, which the specs above cover.
const fastPath = memberPattern(true) !== null && memberPattern(false) !== null;

describe('the fast path (one native match per member) agrees with the exact scanner', { skip: !fastPath && 'the fast path runs on V8 only' }, () => {
  it('takes every text dumps writes (values nested up to 5 levels) and splits it as the scanner does', () => {
    fc.assert(
      fc.property(sessionDict, (dict) => {
        const text = tagged.dumps(dict);
        const fast = matchMembers(text, true);
        if (maxDepth(text) <= 6) assert.ok(fast !== undefined, 'the fast path declined a text dumps wrote');
        if (fast !== undefined) assert.deepStrictEqual(fast, scanMembers(text, { nonFinite: true }));
      }),
      runs,
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 5 }), { noNullPrototype: true }), (dict) => {
        const text = JSON.stringify(dict);
        const fast = matchMembers(text, false);
        assert.ok(fast !== undefined);
        assert.deepStrictEqual(fast, scanMembers(text, { nonFinite: false }));
      }),
      runs,
    );
  });

  it('takes the text prepare() warms the pattern with, for both serializers (a declined warm-up would compile nothing)', () => {
    for (const nonFinite of [true, false]) {
      const fast = matchMembers(WARM_UP_TEXT, nonFinite);
      assert.ok(fast !== undefined, `nonFinite ${nonFinite}`);
      assert.deepStrictEqual(fast, scanMembers(WARM_UP_TEXT, { nonFinite }));
      assert.equal(maxDepth(WARM_UP_TEXT), 6, 'the warm-up text reaches the deepest level the pattern spells out');
    }
  });

  it('on mutated texts it accepts only what the scanner accepts, with the same members (NaN only for tagged JSON)', () => {
    fc.assert(
      fc.property(sessionDict, mutation, fc.boolean(), (dict, [at, insert, remove], nonFinite) => {
        const text = mutate(tagged.dumps(dict), at, insert, remove);
        const fast = matchMembers(text, nonFinite);
        const exact = scanned(text, nonFinite);
        if (fast !== undefined) assert.deepStrictEqual(fast, exact, text);
        assert.deepStrictEqual(Array.isArray(exact) ? splitMembers(text, { nonFinite }) : exact, exact);
      }),
      { numRuns: 3000, seed: 21 },
    );
  });

  it('duplicate keys, however spelled: last value at the first position, on both paths, as JSON.parse reads them', () => {
    fc.assert(
      fc.property(duplicated, (text) => {
        const fast = matchMembers(text, true);
        assert.ok(fast !== undefined);
        assert.deepStrictEqual(fast, scanMembers(text, { nonFinite: true }));
        const parsed = JSON.parse(text) as Record<string, unknown>;
        assert.deepStrictEqual(fast.map(([key]) => key), Object.keys(parsed));
        for (const [key, raw] of fast) assert.deepStrictEqual(JSON.parse(raw), parsed[key]);
      }),
      runs,
    );
  });

  it('declines what it does not cover, and the scanner reads it: whitespace, deeper nesting', () => {
    const deep = (levels: number): string => `{"a":${'['.repeat(levels)}1${']'.repeat(levels)},"b":{"c":[{"d":[{"e":0}]}]}}`;
    assert.deepEqual(matchMembers(deep(5), true), [['a', '[[[[[1]]]]]'], ['b', '{"c":[{"d":[{"e":0}]}]}']]);
    assert.equal(matchMembers(deep(6), true), undefined);
    assert.deepEqual(splitMembers(deep(6), { nonFinite: true })[0], ['a', '[[[[[[1]]]]]]']);
    assert.equal(matchMembers('{"a": 1}', true), undefined);
    assert.deepEqual(splitMembers('{"a": 1}', { nonFinite: true }), [['a', '1']]);
    assert.deepEqual(matchMembers('{}', true), []);
    assert.equal(matchMembers('{"a":NaN}', false), undefined);
    assert.deepEqual(matchMembers('{"a":NaN,"b":-Infinity}', true), [['a', 'NaN'], ['b', '-Infinity']]);
  });

  it('large invalid texts still fail with a StoredTextError (the pattern declines, the scanner reports)', () => {
    for (const text of [`{"a":"${'x'.repeat(1_000_000)}}`, `{"a":[${'1,'.repeat(200_000)}]}`, `{"a":[${'{"b":[1,"x"],'.repeat(50_000)}}]}`]) {
      assert.throws(() => splitMembers(text, { nonFinite: true }), StoredTextError);
    }
    const long = `{"a":"${'x'.repeat(1_000_000)}","b":[${'1,'.repeat(200_000)}2]}`;
    assert.equal(matchMembers(long, true)?.length, 2);
  });
});

/** Deepest nesting of arrays and objects in a JSON text, the top level counting 1. */
function maxDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '[' || c === '{') max = Math.max(max, ++depth);
    else if (c === ']' || c === '}') depth--;
  }
  return max;
}
