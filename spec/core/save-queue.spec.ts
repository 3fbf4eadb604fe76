import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore, SessionStoreError, SessionTooLargeError, jsonSerializer } from 'koa-qsession';
import { SaveQueue } from '../../src/core/save-queue.js';
import type { StoredValue } from '../../src/stored-value.js';

/** A queue over a real MemoryStore, merging JSON members; counts the compare-and-sets that reach the store. */
function setup(maxSize = Infinity, fault?: (call: number) => 'throw' | 'reject' | undefined) {
  const store = new MemoryStore();
  const calls: string[] = [];
  const queue = new SaveQueue({
    replace: (key, expected, value, ttl) => {
      calls.push(String(value));
      // A failing store is a fault these specs cannot cause for real: injected, by call number.
      const failure = fault?.(calls.length);
      if (failure === 'throw') throw new Error('store threw');
      if (failure === 'reject') return Promise.reject(new Error('store rejected'));
      return store.replace(key, expected, value, ttl);
    },
    merge(current, changes) {
      const members = new Map(jsonSerializer.entries(current));
      for (const change of changes) for (const [k, raw] of change) raw === null ? members.delete(k) : members.set(k, raw as string);
      const text = jsonSerializer.assemble(members) as string;
      if (text.length > maxSize) throw new SessionTooLargeError(text.length, maxSize);
      return text;
    },
    budgetMs: 1000,
  });
  const save = (expected: StoredValue, value: string, changes: Record<string, string | null>) =>
    queue.replace('k', { expected, value, changes: new Map(Object.entries(changes)), ttlMs: 60_000 });
  return { store, calls, save };
}

describe('the save queue', () => {
  it('saves that arrive while one is in flight land on its result and coalesce into one write', async () => {
    const { store, calls, save } = setup();
    await store.create('k', '{"a":0}', 60_000);
    const results = await Promise.all([
      save('{"a":0}', '{"a":1}', { a: '1' }),
      save('{"a":0}', '{"a":0,"b":2}', { b: '2' }),
      save('{"a":0}', '{"a":0,"c":3}', { c: '3' }),
      save('{"a":0}', '{"d":4}', { a: null, d: '4' }),
    ]);
    assert.deepEqual(calls, ['{"a":1}', '{"b":2,"c":3,"d":4}'], 'the first alone, the three waiting ones in one write, in arrival order');
    assert.deepEqual(results.map((r) => r.status), ['ok', 'ok', 'ok', 'ok']);
    assert.equal(await store.get('k'), '{"b":2,"c":3,"d":4}');
  });

  it('a session that is gone stays gone for every waiting save, with no further store call', async () => {
    const { calls, save } = setup();
    const results = await Promise.all([save('{"a":0}', '{"a":1}', { a: '1' }), save('{"a":0}', '{"b":1}', { b: '1' })]);
    assert.deepEqual(results, [{ status: 'missing' }, { status: 'missing' }]);
    assert.equal(calls.length, 1);
  });

  it('another writer in between (a conflict): the changes are applied on what it stored', async () => {
    const { store, save } = setup();
    await store.create('k', '{"a":0}', 60_000);
    await store.replace('k', '{"a":0}', '{"a":0,"x":9}', 60_000);
    assert.equal((await save('{"a":0}', '{"a":1}', { a: '1' })).status, 'ok');
    assert.equal(await store.get('k'), '{"a":1,"x":9}');
  });

  it('a batch too large together is written one by one: only the save that does not fit fails', async () => {
    const { store, save } = setup(24);
    await store.create('k', '{"a":0}', 60_000);
    const results = await Promise.allSettled([
      save('{"a":0}', '{"a":1}', { a: '1' }),
      save('{"a":0}', '{"a":0,"b":22}', { b: '22' }),
      save('{"a":0}', '{"a":0,"c":"xxxxxxxxxx"}', { c: '"xxxxxxxxxx"' }),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected']);
    assert.ok((results[2] as PromiseRejectedResult).reason instanceof SessionTooLargeError);
    assert.equal(await store.get('k'), '{"a":1,"b":22}');
  });

  it('a conflict on the first save: it and the saves that waited for it all land, each change kept', async () => {
    const { store, calls, save } = setup();
    await store.create('k', '{"a":0}', 60_000);
    await store.replace('k', '{"a":0}', '{"a":0,"x":9}', 60_000);
    const results = await Promise.all([save('{"a":0}', '{"a":1}', { a: '1' }), save('{"a":0}', '{"a":0,"b":2}', { b: '2' })]);
    assert.deepEqual(results.map((r) => r.status), ['ok', 'ok']);
    assert.equal(await store.get('k'), '{"a":1,"x":9,"b":2}');
    assert.equal(calls.length, 3, 'the conflicting attempt, its merged retry, then the waiting save on top of it');
  });

  for (const failure of ['reject', 'throw'] as const) {
    it(`a store that fails the first save (${failure}s): that save fails, the waiting one is still written, the queue goes on`, async () => {
      const { store, save } = setup(Infinity, (call) => (call === 1 ? failure : undefined));
      await store.create('k', '{"a":0}', 60_000);
      const results = await Promise.allSettled([save('{"a":0}', '{"a":1}', { a: '1' }), save('{"a":0}', '{"a":0,"b":2}', { b: '2' })]);
      assert.deepEqual(results.map((r) => r.status), ['rejected', 'fulfilled']);
      assert.match(String((results[0] as PromiseRejectedResult).reason), /store (threw|rejected)/);
      assert.equal(await store.get('k'), '{"a":0,"b":2}', 'the waiting save starts from its own loaded value');
      assert.equal((await save('{"a":0,"b":2}', '{"a":0,"b":3}', { b: '3' })).status, 'ok', 'nothing left behind in the queue');
    });
  }

  it('a save queued behind a slow one draws its wait on its own budget: it fails when that runs out, and nobody else with it', async () => {
    const store = new MemoryStore();
    await store.create('k', '{"a":0}', 60_000);
    const slow = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    // A store taking 100 ms per write (a slow store, not a fault: nothing is injected).
    const queue = new SaveQueue({
      replace: async (key, expected, value, ttl, budget) => {
        const started = performance.now();
        await slow(100);
        const result = await store.replace(key, expected, value, ttl);
        if (budget) budget.spentMs += performance.now() - started;
        return result;
      },
      merge(current, changes) {
        const members = new Map(jsonSerializer.entries(current));
        for (const change of changes) for (const [k, raw] of change) raw === null ? members.delete(k) : members.set(k, raw as string);
        return jsonSerializer.assemble(members);
      },
      budgetMs: 300,
    });
    const save = (value: string, changes: Record<string, string>, spentMs: number) => {
      const budget = { spentMs };
      return { budget, outcome: queue.replace('k', { expected: '{"a":0}', value, changes: new Map(Object.entries(changes)), ttlMs: 60_000, budget }) };
    };
    const first = save('{"a":1}', { a: '1' }, 0);
    const spent = save('{"a":0,"b":2}', { b: '2' }, 250); // its load took 250 ms of 300: 50 left, less than the write ahead
    const fresh = save('{"a":0,"c":3}', { c: '3' }, 0);
    const [a, b, c] = await Promise.allSettled([first.outcome, spent.outcome, fresh.outcome]);
    assert.equal(a.status, 'fulfilled');
    assert.equal(b.status, 'rejected');
    assert.ok((b as PromiseRejectedResult).reason instanceof SessionStoreError);
    assert.equal(spent.budget.spentMs, 300, 'the whole budget is spent');
    assert.equal(c.status, 'fulfilled', 'the save with budget left does not fail because another had none');
    assert.ok(fresh.budget.spentMs >= 190, `its wait and its write are charged (${fresh.budget.spentMs.toFixed(0)} ms)`);
    assert.equal(await store.get('k'), '{"a":1,"c":3}', 'the failed save stored nothing');
  });
});
