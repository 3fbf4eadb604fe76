/**
 * Values are decoded when the handler first reads them: a request that reads one key decodes one
 * key, and key listing, membership and untouched saves decode nothing (observed through a
 * serializer that counts what it decodes and encodes).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore, taggedJsonSerializer as tagged } from 'koa-qsession';
import { createEvents, Lifecycle, resolveOptions } from '../../src/internal.js';
import type { KeyedSerializer } from '../../src/serializers/serializer.js';

const OK = { isStatic: false, failed: false };

/** Tagged JSON that records every value it decodes and every key it encodes. */
class CountingSerializer implements KeyedSerializer {
  readonly name = 'counting-tagged-json';
  readonly decoded: string[] = [];
  readonly encoded: string[] = [];
  wholeLoads = 0;
  dumps(data: Record<string, unknown>): string {
    return tagged.dumps(data);
  }
  loads(stored: string | Uint8Array): Record<string, unknown> {
    this.wholeLoads++;
    return tagged.loads(stored);
  }
  entries(stored: string | Uint8Array): Array<[string, string]> {
    return tagged.entries(stored);
  }
  decodeValue(raw: string): unknown {
    this.decoded.push(raw);
    return tagged.decodeValue(raw);
  }
  encodeValue(value: unknown, key: string): string {
    this.encoded.push(key);
    return tagged.encodeValue(value, key);
  }
  assemble(entries: Iterable<readonly [string, string]>): string {
    return tagged.assemble(entries);
  }
}

const STORED = tagged.dumps({
  _permanent: true,
  user: { id: 7, name: 'ann', roles: ['admin', 'editor'] },
  counter: 41,
  profile: { prefs: { theme: 'dark', lang: 'en' }, cart: [{ sku: 'a', qty: 1 }, { sku: 'b', qty: 2 }] },
  flash: 'hi',
});

async function setup() {
  const serializer = new CountingSerializer();
  const store = new MemoryStore();
  const id = 'D'.repeat(43);
  await store.create(`session:${id}`, STORED, 60_000);
  const lifecycle = new Lifecycle({ options: resolveOptions({}), store, serializer, events: createEvents() });
  return { serializer, store, id, lifecycle };
}

describe('lazy decoding', () => {
  it('keys(), has(), `in` and an untouched commit decode nothing', async () => {
    const { serializer, lifecycle, id } = await setup();
    const record = await lifecycle.open(id);
    assert.deepEqual(record.session.keys(), ['user', 'counter', 'profile', 'flash']);
    assert.equal(record.session.has('user'), true);
    assert.equal('profile' in record.session, true);
    assert.equal('_permanent' in record.session, false);
    await lifecycle.commit(record, OK);
    assert.deepEqual(serializer.decoded, []);
    assert.deepEqual(serializer.encoded, []);
    assert.equal(serializer.wholeLoads, 0, 'the whole text is never decoded');
  });

  it('a request that reads one key decodes that key only (and encodes it once at commit to see it is unchanged)', async () => {
    const { serializer, lifecycle, id } = await setup();
    const record = await lifecycle.open(id);
    assert.equal((record.session.user as { name: string }).name, 'ann');
    void record.session.user;
    assert.deepEqual(await lifecycle.commit(record, OK), { kind: 'none' });
    assert.deepEqual(serializer.decoded, ['{"id":7,"name":"ann","roles":["admin","editor"]}']);
    assert.deepEqual(serializer.encoded, ['user']);
  });

  it('a write of one key encodes that key only and decodes nothing else of the session', async () => {
    const { serializer, lifecycle, id, store } = await setup();
    const record = await lifecycle.open(id);
    record.session.counter = 42;
    await lifecycle.commit(record, OK);
    assert.deepEqual(serializer.encoded, ['counter']);
    assert.deepEqual(serializer.decoded, ['true'], 'only `_permanent`, to keep the cookie\'s expiry');
    assert.equal(await store.get(`session:${id}`), STORED.replace('"counter":41', '"counter":42'));
  });
});
