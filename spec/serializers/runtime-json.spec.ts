/**
 * The guard against Node 24.21's JSON.parse defect (issue 23), through `loads` / `dumps` and the
 * member-by-member path the middleware uses: the self-test agrees with the issue's three-parse
 * sequence on this runtime, an affected runtime gets one warning, and the issue's two sessions read
 * A-then-B keep their keys. Each case also runs the engine's JSON.parse on the same sequence in the
 * same process: on an affected runtime it must go wrong there, so the serializer's right answer is
 * not the luck of an engine state that hides the defect. Runs on Node 22, 24, 26 and Bun
 * (scripts/test-matrix.mjs).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { TaggedJsonSerializer, taggedJsonSerializer as tagged } from 'koa-qsession';
import { parseJson, runtimeJsonDefect } from '../../src/serializers/runtime-json.js';
import { B_KEYS, B_KEYS_REKEYED, SESSION_A, SESSION_B } from './support/runtime-json-vectors.js';

const onBun = 'Bun' in globalThis;
const affected = runtimeJsonDefect() !== undefined;

/** Runs `args` on this very runtime (Node through tsx, Bun natively); returns stdout. */
function sameRuntime(args: string[]): string {
  const run = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, NODE_ENV: 'test' } });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout;
}

function child(mode: 'standalone' | 'middleware'): { steps: Record<string, number>; keys: string[] } {
  const script = fileURLToPath(new URL('./support/runtime-json-child.ts', import.meta.url));
  const args = onBun ? ['--conditions=source', script, mode] : ['--conditions=source', '--import', 'tsx', script, mode];
  return JSON.parse(sameRuntime(args).trim().split('\n').at(-1)!) as { steps: Record<string, number>; keys: string[] };
}

describe('runtime JSON defect (issue 23): the self-test', () => {
  it("agrees with the issue's three-parse sequence run in a fresh process of this runtime", () => {
    const sequence = 'JSON.parse(\'{"\\\\u014d":1}\'); JSON.parse(\'{"\\\\\\\\":1}\'); console.log(JSON.stringify(Object.keys(JSON.parse(\'{"\\\\u014d":1}\'))))';
    const keys = JSON.parse(sameRuntime(['-e', sequence]).trim()) as string[];
    assert.ok(keys[0] === '\u014d' || keys[0] === '\\', `the sequence ran as written (got ${JSON.stringify(keys)})`);
    const reproduced = keys[0] === '\\';
    assert.equal(affected, reproduced, `${process.version}${onBun ? ' (Bun)' : ''}: the sequence ${reproduced ? 're-keys' : 'reads right'}, the self-test disagrees`);
    if (affected) assert.match(runtimeJsonDefect()!, /JSON\.parse of (Node\.js|Bun) v?\d/);
  });

  it('an affected runtime gets ONE warning (QSESSION_RUNTIME_JSON) per process: at start-up from qsession(), or on the first standalone loads', () => {
    const expected = affected ? 1 : 0;
    const middleware = child('middleware');
    assert.deepEqual(middleware.steps, { afterStartUp: expected, afterLoads: expected }, 'qsession() twice, then six loads');
    assert.deepEqual(middleware.keys, B_KEYS);
    const standalone = child('standalone');
    assert.deepEqual(standalone.steps, { afterLoads: expected }, 'six loads, no qsession()');
    assert.deepEqual(standalone.keys, B_KEYS);
  });
});

describe("runtime JSON defect (issue 23): the issue's two sessions through loads / dumps", () => {
  it("read A, then B: B's v keeps its keys, where the engine's JSON.parse re-keys it on an affected runtime", () => {
    const serializer = new TaggedJsonSerializer();
    serializer.loads(SESSION_A);
    assert.deepEqual(Object.keys(serializer.loads(SESSION_B).v as object), B_KEYS);
    // The same sequence on the engine's parser, in this process, leaves the state that re-keys B.
    JSON.parse(SESSION_A);
    assert.deepEqual(Object.keys((JSON.parse(SESSION_B) as { v: object }).v), affected ? B_KEYS_REKEYED : B_KEYS);
    // Now that the engine holds that state, the serializer still reads B right, both ways.
    const b = serializer.loads(SESSION_B);
    assert.deepEqual(Object.keys(b.v as object), B_KEYS);
    assert.deepEqual(Object.keys(tagged.loads(SESSION_B).v as object), B_KEYS);
  });

  it("member by member (the middleware's path): B's v decodes with its keys, and a nested change writes them back", () => {
    JSON.parse(SESSION_A);
    const members = tagged.entries(SESSION_B);
    assert.deepEqual(members.map(([key]) => key), ['_permanent', 'v']);
    const raw = members[1]![1];
    const v = tagged.decodeValue(raw) as Record<string, unknown>;
    assert.deepEqual(Object.keys(v), B_KEYS);
    v.n = 1;
    const written = tagged.encodeValue(v, 'v');
    assert.equal(written, `${raw.slice(0, -1)},"n":1}`, 'the changed member keeps every key as stored');
    assert.equal(tagged.assemble([members[0]!, ['v', written]]), `${SESSION_B.slice(0, -2)},"n":1}}`);
  });

  it('dumps(loads(x)) is x, byte for byte, for A and for B, read in that order', () => {
    JSON.parse(SESSION_A);
    assert.equal(tagged.dumps(tagged.loads(SESSION_A)), SESSION_A);
    assert.equal(tagged.dumps(tagged.loads(SESSION_B)), SESSION_B);
  });
});

describe('runtime JSON defect (issue 23): parseJson, the plain JSON read', () => {
  it('reads B after A with its keys, whatever the engine does', () => {
    JSON.parse(SESSION_A);
    assert.deepEqual(Object.keys((parseJson(SESSION_B) as { v: object }).v), B_KEYS);
  });

  it('reads any JSON text as a sound JSON.parse does (numbers, __proto__, duplicated keys) and refuses what it refuses', () => {
    const keyed = fc.string({ unit: fc.constantFrom('\\', '"', '\u014d', '\u2028', 'a', '_', 'p', 'o', 'r', 't'), maxLength: 9 });
    const json = fc.letrec<{ v: unknown }>((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, fc.jsonValue({ maxDepth: 1 }), fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(keyed, tie('v'), { maxKeys: 4, noNullPrototype: true })),
    })).v;
    fc.assert(
      fc.property(json, (value) => {
        const text = JSON.stringify(value);
        assert.deepStrictEqual(parseJson(text), value);
      }),
      { numRuns: 500, seed: 230 },
    );
    assert.deepStrictEqual(parseJson('{"__proto__":1,"a":[-0,1e400,0.5],"a":2}'), JSON.parse('{"__proto__":1,"a":[-0,1e400,0.5],"a":2}'));
    assert.ok(Object.hasOwn(parseJson('{"__proto__":{"polluted":1}}') as object, '__proto__'));
    for (const bad of ['NaN', '[Infinity]', '{"a":-Infinity}', '{"a":1,}', "{'a':1}", '']) {
      assert.throws(() => parseJson(bad), SyntaxError, bad);
    }
  });
});
