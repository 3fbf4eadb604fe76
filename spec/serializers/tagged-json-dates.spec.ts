/**
 * `new TaggedJsonSerializer({ dates: 'naive-utc' })` (issue 23, point 4): dates written the way Quart
 * 0.18 writes `datetime.utcnow()`, so a Quart 0.18 app reads them back as NAIVE datetimes and can
 * compute with them. Checked against the installed Quart 0.18 (spec/support/tagged_json_ref.py):
 * our text is byte for byte what Quart's `dumps` writes for the same naive datetime, and Quart writes
 * our text back unchanged after reading it (an aware datetime would come back with `+00:00`).
 * Through the middleware and a real Quart app: spec/interop/quart-dates.spec.ts.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { SessionOptionsError, SessionSerializationError, TaggedJsonSerializer, Tuple, taggedJsonSerializer } from 'koa-qsession';
import { runReference, type PyReply } from '../support/python.js';

const naive = new TaggedJsonSerializer({ dates: 'naive-utc' });

/** A Date and the naive Python datetime with the same UTC wall time. */
const pyNaive = (d: Date): string =>
  `datetime(${d.getUTCFullYear()}, ${d.getUTCMonth() + 1}, ${d.getUTCDate()}, ${d.getUTCHours()}, ${d.getUTCMinutes()}, ${d.getUTCSeconds()}, ${d.getUTCMilliseconds() * 1000})`;

const at = (iso: string): Date => new Date(iso);

interface Case {
  name: string;
  py: string;
  js: () => Record<string, unknown>;
}

const dates = [at('2024-01-02T03:04:05Z'), at('2024-01-02T03:04:05.123Z'), at('1970-01-01T00:00:00Z'), at('0001-01-01T00:00:00Z'),
  at('0999-03-04T05:06:07.009Z'), at('9999-12-31T23:59:59.999Z'), at('2024-02-29T23:59:59.5Z')];

const HAND: Case[] = [
  ...dates.map((d) => ({ name: `top level ${d.toISOString()}`, py: `{'login_at': ${pyNaive(d)}}`, js: () => ({ login_at: d }) })),
  {
    name: 'nested in a dict, a list and a tuple',
    py: `{'user': {'id': 7, 'since': ${pyNaive(dates[1]!)}}, 'seen': [${pyNaive(dates[0]!)}], 't': (${pyNaive(dates[2]!)}, 1)}`,
    js: () => ({ user: { id: 7, since: dates[1]! }, seen: [dates[0]!], t: Tuple.of(dates[2]!, 1) }),
  },
];

// Any millisecond Python can hold: seeded and bounded.
const MIN = new Date('0001-01-01T00:00:00Z').getTime();
const MAX = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const GENERATED: Case[] = fc
  .sample(fc.integer({ min: MIN, max: MAX }), { numRuns: 150, seed: 20261206 })
  .map((ms, i) => ({ name: `generated ${i}`, py: `{'d': ${pyNaive(new Date(ms))}}`, js: () => ({ d: new Date(ms) }) }));

const CASES = [...HAND, ...GENERATED];

describe("dates: 'naive-utc' writes what Quart 0.18 writes for a naive UTC datetime", () => {
  let replies: PyReply[] = [];
  const texts = CASES.map((c) => naive.dumps(c.js()));

  before(() => {
    replies = runReference(CASES.map((c, i) => ({ expr: c.py, js: texts[i]! })));
  });

  it('the form: ISO 8601, microseconds, no offset', () => {
    assert.equal(naive.dumps({ login_at: at('2024-01-02T03:04:05.123Z') }), '{"login_at":{" d":"2024-01-02T03:04:05.123000"}}');
    assert.equal(naive.dumps({ d: at('0001-01-01T00:00:00Z') }), '{"d":{" d":"0001-01-01T00:00:00.000000"}}');
    assert.equal(naive.dates, 'naive-utc');
  });

  CASES.forEach((c, i) => {
    it(c.name, () => {
      const quart = replies[i]!.quart;
      const where = `\n  py: ${c.py}`;
      assert.equal(quart.dumps.error, undefined, `Quart could not encode the case${where}`);
      assert.equal(texts[i], quart.dumps.ok, `our text differs from Quart 0.18's${where}`);
      // Read as naive: an aware datetime would be written back with "+00:00".
      assert.deepStrictEqual(quart.redump, { ok: texts[i] }, `Quart 0.18 does not read our text back as the same naive datetime${where}`);
      assert.deepStrictEqual(naive.loads(texts[i]!), c.js(), `we read our own text as another value${where}`);
      assert.deepStrictEqual(taggedJsonSerializer.loads(texts[i]!), c.js(), `the default serializer reads it too${where}`);
    });
  });

  it('the key-granular path writes the same form (a changed member of a stored session)', () => {
    const stored = '{"_permanent":true,"login_at":{" d":"2024-01-02T03:04:05.000000"},"n":1}';
    const members = naive.entries(stored);
    const changed = members.map(([key, raw]): [string, string] => [key, key === 'login_at' ? naive.encodeValue(at('2025-06-07T08:09:10.011Z'), key) : raw]);
    assert.equal(naive.assemble(changed), '{"_permanent":true,"login_at":{" d":"2025-06-07T08:09:10.011000"},"n":1}');
  });

  it("the default still writes HTTP dates (Flask's form); both read either form", () => {
    const d = at('2024-01-02T03:04:05Z');
    assert.equal(taggedJsonSerializer.dates, 'http');
    assert.equal(new TaggedJsonSerializer().dumps({ d }), '{"d":{" d":"Tue, 02 Jan 2024 03:04:05 GMT"}}');
    assert.equal(new TaggedJsonSerializer({ dates: 'http' }).dumps({ d }), '{"d":{" d":"Tue, 02 Jan 2024 03:04:05 GMT"}}');
    assert.deepStrictEqual(naive.loads('{"d":{" d":"Tue, 02 Jan 2024 03:04:05 GMT"}}'), { d });
  });

  it('custom tags still register beside it', () => {
    const tag = { key: ' x', check: (v: unknown): v is symbol => false, toJSON: () => null, toPython: () => 'x' };
    assert.deepStrictEqual(new TaggedJsonSerializer({ dates: 'naive-utc', tags: [tag] }).loads('{"a":{" x":1}}'), { a: 'x' });
  });

  it('an unknown format fails when the serializer is built (start-up), naming the option', () => {
    for (const dates of ['iso', 'naive', 'HTTP', 1, null, {}] as unknown[]) {
      assert.throws(
        () => new TaggedJsonSerializer({ dates: dates as 'http' }),
        (e: unknown) => e instanceof SessionOptionsError && e.option === 'dates' && /"http" or "naive-utc"/.test(e.message),
        String(dates),
      );
    }
  });

  it('a date Python cannot hold is refused with the key path, nothing written', () => {
    for (const bad of [new Date(NaN), new Date(Date.UTC(10000, 0, 1)), new Date(-62200000000000)]) {
      assert.throws(() => naive.dumps({ user: { since: bad } }), (e: unknown) => e instanceof SessionSerializationError && e.path === 'user.since');
    }
  });
});
