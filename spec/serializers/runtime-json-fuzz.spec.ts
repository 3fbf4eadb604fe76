/**
 * The fuzz that found Node 24.21's JSON.parse defect (issue 23), kept: random nested tagged values,
 * written by `dumps` and read back in sequence in ONE process (what one session's text leaves in the
 * engine is what corrupts the reading of the next), each read compared with the value written and
 * with the exact parser. Keys lean towards the short escaped ones that trigger the defect, so a few
 * thousand values reach it where uniform keys needed 121,042 for 4 hits.
 *
 * The engine's own JSON.parse reads every text too, in the same sequence, as other code in the host
 * process would: on an affected runtime it must go wrong at least once (the fuzz reaches the defect,
 * so the serializer's clean result means something), and on a sound one never (the self-test is not
 * missing a variant the fuzz finds).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { TaggedJsonSerializer, Tuple } from 'koa-qsession';
import { runtimeJsonDefect } from '../../src/serializers/runtime-json.js';
import { parsePyJson } from '../../src/serializers/tagged-json/py-json.js';
import { scalarValue } from '../support/tagged-values.js';

const TAG_KEYS = [' t', ' b', ' m', ' u', ' d', ' di', ' x'];
// One or two UTF-16 units that Python writes escaped (`\\`, `\"`, `\n`, `\u014d`, ...) or plain.
const unit = fc.constantFrom('\\', '"', '\n', '\u014d', '\u0253', '\u2028', '\uea6b', '\u00e9', 'a', 'b', ' ', '/');
const key = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit, minLength: 1, maxLength: 2 }) },
  { weight: 1, arbitrary: fc.constantFrom(...TAG_KEYS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);

const { session } = fc.letrec<{ value: unknown; list: unknown[]; tuple: Tuple; dict: Record<string, unknown>; session: Record<string, unknown> }>(
  (tie) => ({
    value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalarValue, tie('list'), tie('tuple'), tie('dict')),
    list: fc.array(tie('value'), { maxLength: 4 }),
    tuple: fc.array(tie('value'), { maxLength: 4 }).map((items) => new Tuple(items)),
    dict: fc.dictionary(key, tie('value'), { maxKeys: 4, noNullPrototype: true }),
    session: fc.dictionary(key, tie('value'), { maxKeys: 6, noNullPrototype: true }),
  }),
);

/** Every object key of a parsed JSON tree, depth first, in order: what a re-keying changes. */
function keysOf(tree: unknown, out: string[] = []): string[] {
  if (Array.isArray(tree)) for (const item of tree) keysOf(item, out);
  else if (typeof tree === 'object' && tree !== null) {
    for (const [k, v] of Object.entries(tree)) {
      out.push(k);
      keysOf(v, out);
    }
  }
  return out;
}

/** The text's tree as the exact parser reads it, numbers as their text (only the keys are compared). */
function exactTree(text: string): unknown {
  return parsePyJson(text, { onNumber: (literal) => literal.text, onObject: (object) => object });
}

const REFUSED = Symbol('refused');
function nativeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return REFUSED;
  }
}

describe('runtime JSON defect: the fuzz that found it (issue 23)', () => {
  it('tagged JSON reads every value in a sequence of 4,000 back as written, on whole loads and member by member', () => {
    const serializer = new TaggedJsonSerializer();
    const affected = runtimeJsonDefect() !== undefined;
    let nativeMisreads = 0;
    let runs = 0;
    fc.assert(
      fc.property(session, (dict) => {
        runs++;
        const text = serializer.dumps(dict);
        const expectedKeys = keysOf(exactTree(text));
        // The engine's parser on the same sequence, as the rest of the host process would use it
        // (it refuses Python's NaN / Infinity, which tagged JSON writes for such floats).
        const native = nativeParse(text);
        if (native !== REFUSED && JSON.stringify(keysOf(native)) !== JSON.stringify(expectedKeys)) nativeMisreads++;
        assert.deepStrictEqual(serializer.loads(text), dict);
        for (const [name, raw] of serializer.entries(text)) assert.deepStrictEqual(serializer.decodeValue(raw), dict[name], `member ${JSON.stringify(name)}`);
      }),
      { numRuns: 4000, seed: 23, endOnFailure: true },
    );
    assert.equal(runs, 4000);
    if (affected) assert.ok(nativeMisreads > 0, 'on this affected runtime the sequence must reach the defect, or the clean result proves nothing');
    else assert.equal(nativeMisreads, 0, `the self-test says JSON.parse is sound here, but it re-keyed ${nativeMisreads} texts`);
  });
});
