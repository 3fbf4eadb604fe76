/**
 * Serializers through the real core: the Lifecycle class with a MemoryStore (no HTTP needed for
 * these decisions), and the `serializer` option.
 */
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import {
  MemoryStore, PyFloat, SessionOptionsError, SessionValueDecodeError, SessionSerializationError, Tuple, UUID, jsonSerializer, qsession,
  taggedJsonSerializer, v8Serializer, type Serializer, type SessionEventMap,
} from 'koa-qsession';
import { createEvents, Lifecycle, resolveOptions, resolveSerializer } from '../../src/internal.js';
import { withoutExpiry } from '../support/decision.js';

const OK = { isStatic: false, failed: false };

function setup(serializer: Serializer) {
  const store = new MemoryStore();
  const events = createEvents();
  const options = resolveOptions({ serializer });
  const lifecycle = new Lifecycle({ options, store, serializer, events });
  return { store, events, lifecycle, key: (id: string) => options.keyPrefix + id };
}

async function saveNew(lifecycle: Lifecycle, data: Record<string, unknown>): Promise<string> {
  const record = lifecycle.fresh(false);
  for (const [k, v] of Object.entries(data)) record.session.set(k, v);
  const action = await lifecycle.commit(record, OK);
  assert.equal(action.kind, 'set');
  return record.id;
}

describe('the default serializer', () => {
  it('is tagged JSON, written as Quart-Session writes it', async () => {
    // The lifecycle a bare qsession() builds: default options, the memory store, the default serializer.
    const store = new MemoryStore();
    const lifecycle = new Lifecycle({ options: resolveOptions({}), store, serializer: resolveSerializer(undefined), events: createEvents() });
    const id = await saveNew(lifecycle, { foo: 'bar' });
    assert.equal(await store.get(`session:${id}`), '{"_permanent":true,"foo":"bar"}');
  });
  it('the option takes a name or an object, and names itself when wrong', () => {
    assert.equal(resolveSerializer(undefined), taggedJsonSerializer);
    assert.equal(resolveSerializer('tagged-json'), taggedJsonSerializer);
    assert.equal(resolveSerializer('json'), jsonSerializer);
    assert.equal(resolveSerializer('v8'), v8Serializer);
    assert.doesNotThrow(() => qsession({ serializer: 'v8' }));
    const custom: Serializer = { name: 'mine', dumps: (d) => JSON.stringify(d), loads: (s) => JSON.parse(String(s)) as Record<string, unknown> };
    assert.equal(resolveSerializer(custom), custom);
    assert.throws(() => qsession({ serializer: 'yaml' as 'json' }), (e: unknown) => e instanceof SessionOptionsError && e.option === 'serializer' && /"tagged-json", "json", "v8"/.test(e.message));
    assert.throws(() => qsession({ serializer: { name: 'x' } as unknown as Serializer }), { option: 'serializer' });
    assert.throws(() => qsession({ serializer: { ...custom, prepare: true } as unknown as Serializer }), (e: unknown) => e instanceof SessionOptionsError && e.option === 'serializer' && /prepare/.test(e.message));
  });
  it('prepare() runs when the middleware is created, before any request, so the first load does not pay for it', () => {
    let prepared = 0;
    const custom: Serializer = { name: 'mine', dumps: (d) => JSON.stringify(d), loads: (s) => JSON.parse(String(s)) as Record<string, unknown>, prepare: () => void prepared++ };
    qsession({ serializer: custom });
    assert.equal(prepared, 1);
    qsession({ serializer: custom }); // each middleware asks; the serializer keeps it cheap the second time
    assert.equal(prepared, 2);
  });
});

describe('every serializer through the lifecycle and the memory store', () => {
  const cases: [Serializer, Record<string, unknown>][] = [
    [taggedJsonSerializer, { t: Tuple.of(1, Buffer.from([0, 255])), u: new UUID('b8ebbf02cc7a4b0b824f22a984c8c0b8'), big: 2n ** 64n, f: new PyFloat(2), d: new Date(1_700_000_000_000) }],
    [jsonSerializer, { a: [1, 'x', { b: null }] }],
    [v8Serializer, { bytes: new Uint8Array([0, 0xff, 0xc3, 0x28]), map: new Map([[1, new Set(['a'])]]), big: 2n ** 64n, u: undefined, d: new Date(5), n: NaN }],
  ];
  for (const [serializer, data] of cases) {
    it(`${serializer.name}: save, load, change, save again`, async () => {
      const { lifecycle, store, key } = setup(serializer);
      const id = await saveNew(lifecycle, data);
      const stored = await store.get(key(id));
      assert.ok(stored !== null);
      if (serializer === v8Serializer) assert.ok(stored instanceof Uint8Array, 'v8 sessions are bytes');
      const loaded = await lifecycle.open(id);
      assert.equal(loaded.isNew, false);
      for (const [k, v] of Object.entries(data)) assert.deepStrictEqual(loaded.peek(k), v);
      loaded.session.set('extra', 1);
      assert.deepStrictEqual(withoutExpiry(await lifecycle.commit(loaded, OK)), { kind: 'set', id });
      const again = await lifecycle.open(id);
      assert.equal(again.peek('extra'), 1);
    });
  }

  it('v8: bytes that are not UTF-8 survive the store, compare-and-set and a concurrent merge', async () => {
    const { lifecycle, store, key } = setup(v8Serializer);
    const id = await saveNew(lifecycle, { a: new Uint8Array([0xff, 0xfe, 0x80]) });
    const first = await lifecycle.open(id);
    const second = await lifecycle.open(id);
    first.session.set('x', 1);
    second.session.set('y', new Uint8Array([0xc0, 0x80]));
    await lifecycle.commit(first, OK);
    await lifecycle.commit(second, OK); // conflict: merged on top of what `first` stored
    const merged = v8Serializer.loads((await store.get(key(id)))!);
    assert.deepStrictEqual(merged.a, new Uint8Array([0xff, 0xfe, 0x80]));
    assert.equal(merged.x, 1);
    assert.deepStrictEqual(merged.y, new Uint8Array([0xc0, 0x80]));
  });

  it('v8: refuses what it would change silently, with the path', () => {
    class Cart { items = [1] }
    assert.throws(() => v8Serializer.dumps({ cart: { items: [1, 2, new Cart()] } }), { path: 'cart.items[2]', message: /plain object/ });
    assert.throws(() => v8Serializer.dumps({ f: () => 1 }), { path: 'f' });
    assert.throws(() => v8Serializer.dumps({ t: Tuple.of(1) }), { path: 't' });
    assert.throws(() => v8Serializer.loads('text'), /bytes/);
  });

  it('a value the serializer refuses: the commit fails with the path and nothing is written', async () => {
    const { lifecycle, store } = setup(taggedJsonSerializer);
    const record = lifecycle.fresh(false);
    record.session.set('cart', { items: [1, 2, new Map()] });
    await assert.rejects(async () => lifecycle.commit(record, OK), (e: unknown) => e instanceof SessionSerializationError && e.path === 'cart.items[2]');
    assert.equal(store.size, 0);
  });
});

describe('a stored value that does not decode', () => {
  it('tagged JSON, one bad member: the session loads, reading that key throws a typed error without the value, a write keeps it as stored', async () => {
    const { lifecycle, store, key } = setup(taggedJsonSerializer);
    const id = lifecycle.fresh(false).id;
    await store.create(key(id), '{"u":{" u":"SECRET-9f3a"},"n":1}', 60_000);
    const record = await lifecycle.open(id);
    assert.equal(record.isNew, false);
    assert.deepEqual(record.session.keys(), ['u', 'n']);
    assert.throws(() => record.session.u, (e: unknown) => e instanceof SessionValueDecodeError && e.key === 'u' && !e.message.includes('SECRET'));
    record.session.n = 2;
    await lifecycle.commit(record, OK);
    assert.equal(await store.get(key(id)), '{"_permanent":true,"u":{" u":"SECRET-9f3a"},"n":2}');
  });

  const garbage: [Serializer, string | Uint8Array][] = [
    [taggedJsonSerializer, '{"user":"SECRET-9f3a", oops'],
    [jsonSerializer, '{"user":"SECRET-9f3a", oops'],
    [v8Serializer, Buffer.from('SECRET-9f3a not v8')],
  ];
  it('tagged JSON, a `_permanent` that does not decode: the session works, the flag falls back to the option and is rewritten', async () => {
    const { lifecycle, store, key } = setup(taggedJsonSerializer);
    const id = lifecycle.fresh(false).id;
    await store.create(key(id), '{"_permanent":{" d":"not a date"},"n":1}', 60_000);
    const record = await lifecycle.open(id);
    assert.equal(record.session.permanent, true);
    record.session.n = 2;
    await lifecycle.commit(record, OK);
    assert.equal(await store.get(key(id)), '{"_permanent":true,"n":2}');
  });

  for (const [serializer, bad] of garbage) {
    it(`${serializer.name}: fresh session with a new id, entry left alone, decode-error without the value or the id`, async () => {
      const { lifecycle, store, events, key } = setup(serializer);
      const id = lifecycle.fresh(false).id; // an id of the configured shape
      await store.create(key(id), bad, 60_000);
      const seen: SessionEventMap['decode-error'][0][] = [];
      events.on('decode-error', (event) => seen.push(event));
      const record = await lifecycle.open(id);
      assert.equal(record.isNew, true);
      assert.notEqual(record.id, id);
      assert.equal(record.keys().length, 0);
      assert.deepEqual(await store.get(key(id)), bad, 'the entry is left alone');
      assert.equal(seen.length, 1);
      const dump = inspect(seen[0], { depth: Infinity, showHidden: true });
      assert.ok(!dump.includes('SECRET'), `the event carries the stored value: ${dump}`);
      assert.ok(!dump.includes(id), `the event carries the session id: ${dump}`);
      assert.equal(seen[0]!.session, seen[0]!.error.session);
      assert.match(seen[0]!.session, /^[A-Za-z0-9_-]{12}$/);
    });
  }
});
