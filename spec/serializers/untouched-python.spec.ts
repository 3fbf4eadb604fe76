/**
 * A Koa write does not touch what it did not change (issue 13; issue 14 point 4): Python writes a
 * session (Quart 0.18 as installed, and Flask's format), Koa reads some values and changes one
 * unrelated key, and every other member's stored text is byte-identical; Python then reads every
 * value back with its type, naive datetimes included (a Quart handler's `utcnow() - login_at` works).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { MemoryStore, PyFloat, Tuple, taggedJsonSerializer as tagged } from 'koa-qsession';
import { createEvents, Lifecycle, resolveOptions } from '../../src/internal.js';
import { ensureQuart, PYTHON } from '../support/python.js';

const OK = { isStatic: false, failed: false };

interface Reply {
  text?: string;
  same?: boolean;
  differs?: string[];
  redump?: boolean;
  ages?: string[];
}

function python(lines: object[]): Reply[] {
  ensureQuart();
  const script = fileURLToPath(new URL('../support/untouched_ref.py', import.meta.url));
  const run = spawnSync(PYTHON, [script], { input: lines.map((l) => JSON.stringify(l)).join('\n') + '\n', encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`the Python side failed:\n${run.stderr}`);
  return run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Reply);
}

/** Every tag, Python's float spellings, naive and aware datetimes, big ints, escapes, a key order that is not sorted. */
const EVERY_SPELLING = `{
  '_permanent': True, '_addr': '127.0.0.1',
  'zeta': 1, 'login_at': datetime(2024, 1, 2, 3, 4, 5, 123456), 'alpha': 'a',
  'ratio': 1.0, 'huge': 1e300, 'tiny': 1e-07, 'neg0': -0.0, 'nan': float('nan'), 'inf': float('-inf'), 'third': 1/3,
  'big': 2**70, 'aware': datetime(2024, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2))),
  'tuple': (1, 'a', b'\\x00\\xff', (2.0,)), 'uuid': UUID('b8ebbf02-cc7a-4b0b-824f-22a984c8c0b8'),
  'markup': Markup('<b>x</b>'), 'text': '\\u00e9\\U0001F600\\u2028',
  'nested': {'when': datetime(2023, 1, 1), 'vals': [1.5, 2.0, (3.0,)], 'flags': {'b': True, 'a': None}},
  'cart': [{'sku': 'x', 'price': 10.0, 'qty': 2}],
}`.replace(/\n\s*/g, ' ');
const WITH_DI = EVERY_SPELLING.replace("'cart':", "'di': {' t': [1, 2]}, 'cart':");

function lifecycle(store: MemoryStore): Lifecycle {
  return new Lifecycle({ options: resolveOptions({}), store, serializer: tagged, events: createEvents() });
}

/** Loads `text` through the lifecycle, lets `handle` work on the session, commits; returns the stored text. */
async function koaWrite(text: string, handle: (session: Record<string, unknown> & { set(k: string, v: unknown): unknown }) => void): Promise<string> {
  const store = new MemoryStore();
  const id = 'A'.repeat(43);
  await store.create(`session:${id}`, text, 60_000);
  const lc = lifecycle(store);
  const record = await lc.open(id);
  assert.equal(record.isNew, false);
  handle(record.session as never);
  await lc.commit(record, OK);
  return String(await store.get(`session:${id}`));
}

describe('untouched values are written back as Python wrote them', () => {
  for (const [serializer, expr] of [['quart', EVERY_SPELLING], ['flask', WITH_DI]] as const) {
    it(`${serializer}: one unrelated key changed, values read but not changed: every other member byte-identical, Python reads every type back`, async () => {
      const [{ text }] = python([{ serializer, expr }]) as [Reply];
      assert.ok(text);
      const written = await koaWrite(text, (session) => {
        // Reading hands out objects (a Date, a PyFloat, a Tuple, a dict): the commit compares them.
        assert.ok(session.login_at instanceof Date);
        assert.ok(session.ratio instanceof PyFloat);
        assert.ok(session.tuple instanceof Tuple);
        assert.equal((session.nested as { vals: unknown[] }).vals.length, 3);
        void session.aware;
        void session.cart;
        session.koa_visits = 1;
      });
      assert.deepEqual(tagged.entries(written), [...tagged.entries(text), ['koa_visits', '1']]);
      assert.equal(written, text.slice(0, -1) + ',"koa_visits":1}');
      const [reply] = python([{ serializer, expr, koa: written, added: ['koa_visits'] }]) as [Reply];
      assert.deepEqual(reply.differs, []);
      assert.equal(reply.same, true);
      assert.equal(reply.redump, true, 'Python writes the text Koa stored back unchanged');
      // Quart 0.18 keeps naive datetimes naive (Flask's format has none: it reads every date as UTC).
      if (serializer === 'quart') assert.ok(reply.ages!.length === 2 && reply.ages!.every((age) => age === 'ok'), `naive datetimes: ${reply.ages!.join(', ')}`);
    });
  }

  it('quart: a value changed in place is re-encoded; every other member keeps its Python text', async () => {
    const [{ text }] = python([{ serializer: 'quart', expr: EVERY_SPELLING }]) as [Reply];
    const written = await koaWrite(text!, (session) => {
      (session.cart as Array<Record<string, unknown>>).push({ sku: 'y', qty: 1 });
      void session.nested;
    });
    const before = new Map(tagged.entries(text!));
    const after = new Map(tagged.entries(written));
    assert.deepEqual([...after.keys()], [...before.keys()]);
    for (const [key, raw] of before) if (key !== 'cart') assert.equal(after.get(key), raw, key);
    assert.equal(after.get('cart'), '[{"sku":"x","price":10.0,"qty":2},{"sku":"y","qty":1}]');
    const [reply] = python([{ serializer: 'quart', expr: EVERY_SPELLING, koa: written, added: [] }]) as [Reply];
    assert.deepEqual(reply.differs, ['cart']);
    assert.ok(reply.ages!.every((age) => age === 'ok'));
  });

  it('a merge after a conflict keeps the other writer\'s members as it wrote them', async () => {
    const [{ text }] = python([{ serializer: 'quart', expr: EVERY_SPELLING }]) as [Reply];
    const store = new MemoryStore();
    const id = 'B'.repeat(43);
    await store.create(`session:${id}`, text!, 60_000);
    const lc = lifecycle(store);
    const [a, b] = [await lc.open(id), await lc.open(id)];
    a.session.fromA = 1;
    b.session.fromB = 2;
    void b.session.login_at;
    await lc.commit(a, OK);
    await lc.commit(b, OK);
    assert.equal(String(await store.get(`session:${id}`)), text!.slice(0, -1) + ',"fromA":1,"fromB":2}');
  });
});
