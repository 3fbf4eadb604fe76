import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SessionStore, StoredValue } from 'koa-qsession';

export interface ContractSubject {
  store: SessionStore;
  /** Stops servers, removes directories; called once after the suite. */
  cleanup(): Promise<void>;
}

let counter = 0;
const uniqueKey = () => `contract:${process.pid}:${Date.now()}:${counter++}`;
const bytes = (value: StoredValue) => Buffer.from(typeof value === 'string' ? Buffer.from(value) : value);

/**
 * The behaviour every store must have. A new store proves itself by passing this suite:
 * `storeContract('my store', async () => ({ store, cleanup }))`.
 * `ttlGranularityMs`: the store's clock step (memcached counts whole seconds).
 * `compareAndSet`: `'atomic'` (default) where the backend itself decides who wins; `'in-process'`
 * for a store that serialises its read-then-write in this process only (the foreign-store
 * adapters): the concurrency cases still run, against one store instance, and say so; `'none'`
 * skips them.
 */
export function storeContract(
  name: string,
  open: () => Promise<ContractSubject>,
  options: { ttlGranularityMs?: number; compareAndSet?: 'atomic' | 'in-process' | 'none' } = {},
): void {
  const step = options.ttlGranularityMs ?? 1;
  const compareAndSet = options.compareAndSet ?? 'atomic';
  const concurrency = {
    title: compareAndSet === 'in-process' ? ' (one store instance: serialised in this process only)' : '',
    options: { skip: compareAndSet === 'none' ? `${name} has no compare-and-set` : false },
  };
  describe(`store contract: ${name}`, () => {
    let subject: ContractSubject;
    let store: SessionStore;
    before(async () => {
      subject = await open();
      store = subject.store;
    });
    after(async () => {
      await subject?.cleanup();
    });

    it('has a name', () => {
      assert.equal(typeof store.name, 'string');
      assert.ok(store.name.length > 0);
    });

    it('get of a missing key is null', async () => {
      assert.equal(await store.get(uniqueKey()), null);
    });

    it('create stores a text value that get returns byte for byte', async () => {
      const key = uniqueKey();
      const text = '{"_permanent":true,"emoji":"\\ud83d\\ude00","raw":"é"}';
      assert.equal(await store.create(key, text, 60_000), true);
      const got = await store.get(key);
      assert.ok(got !== null);
      assert.deepEqual(bytes(got), Buffer.from(text));
    });

    it('create stores binary values (every byte value) unchanged', async () => {
      const key = uniqueKey();
      const value = Uint8Array.from({ length: 512 }, (_, i) => i % 256);
      assert.equal(await store.create(key, value, 60_000), true);
      const got = await store.get(key);
      assert.ok(got !== null);
      assert.deepEqual(bytes(got), Buffer.from(value));
    });

    it('create refuses an existing key and keeps the first value', async () => {
      const key = uniqueKey();
      assert.equal(await store.create(key, 'first', 60_000), true);
      assert.equal(await store.create(key, 'second', 60_000), false);
      assert.deepEqual(bytes((await store.get(key))!), Buffer.from('first'));
    });

    it('replace succeeds when the expected value matches', async () => {
      const key = uniqueKey();
      await store.create(key, 'v1', 60_000);
      assert.deepEqual(await store.replace(key, 'v1', 'v2', 60_000), { status: 'ok' });
      assert.deepEqual(bytes((await store.get(key))!), Buffer.from('v2'));
    });

    it('replace matches bytes whatever form they were given in', async () => {
      const key = uniqueKey();
      await store.create(key, 'vé', 60_000);
      assert.deepEqual(await store.replace(key, Buffer.from('vé'), 'v2', 60_000), { status: 'ok' });
    });

    it('replace reports a conflict with the current value and leaves it alone', async () => {
      const key = uniqueKey();
      await store.create(key, 'theirs', 60_000);
      const result = await store.replace(key, 'mine-was', 'mine', 60_000);
      assert.equal(result.status, 'conflict');
      assert.ok(result.status === 'conflict');
      assert.deepEqual(bytes(result.current), Buffer.from('theirs'));
      assert.deepEqual(bytes((await store.get(key))!), Buffer.from('theirs'));
    });

    it('replace never creates a missing key', async () => {
      const key = uniqueKey();
      assert.deepEqual(await store.replace(key, 'x', 'y', 60_000), { status: 'missing' });
      assert.equal(await store.get(key), null);
    });

    it('delete removes a key, and deleting a missing key is fine', async () => {
      const key = uniqueKey();
      await store.create(key, 'x', 60_000);
      await store.delete(key);
      assert.equal(await store.get(key), null);
      await store.delete(key);
      await store.delete(uniqueKey());
    });

    it('deleteIf deletes only while the key holds the expected bytes', async () => {
      const key = uniqueKey();
      await store.create(key, 'v1', 60_000);
      const conflict = await store.deleteIf(key, 'v0');
      assert.equal(conflict.status, 'conflict');
      assert.ok(conflict.status === 'conflict');
      assert.deepEqual(bytes(conflict.current), Buffer.from('v1'));
      assert.deepEqual(bytes((await store.get(key))!), Buffer.from('v1'), 'a conflict leaves the value alone');
      const got = await store.get(key);
      assert.deepEqual(await store.deleteIf(key, got!), { status: 'ok' });
      assert.equal(await store.get(key), null);
      assert.deepEqual(await store.deleteIf(key, 'v1'), { status: 'missing' });
    });

    it('deleteIf matches bytes whatever form they were given in, and after a replace', async () => {
      const key = uniqueKey();
      await store.create(key, 'vé', 60_000);
      await store.replace(key, Buffer.from('vé'), 'v2', 60_000);
      assert.deepEqual(await store.deleteIf(key, Buffer.from('v2')), { status: 'ok' });
      assert.equal(await store.get(key), null);
    });

    it('deleteIf racing a replace from the same value: exactly one wins, and a lost delete keeps the write', async () => {
      for (let round = 0; round < 10; round++) {
        const key = uniqueKey();
        await store.create(key, 'base', 60_000);
        const [deleted, replaced] = await Promise.all([store.deleteIf(key, 'base'), store.replace(key, 'base', 'kept', 60_000)]);
        const wins = [deleted.status === 'ok', replaced.status === 'ok'].filter(Boolean).length;
        assert.equal(wins, 1, `round ${round}: ${deleted.status} / ${replaced.status}`);
        const left = await store.get(key);
        if (replaced.status === 'ok') assert.deepEqual(bytes(left!), Buffer.from('kept'));
        else assert.equal(left, null);
      }
    });

    it('a key expires after its TTL', async () => {
      const key = uniqueKey();
      await store.create(key, 'short', Math.max(step, 300));
      assert.notEqual(await store.get(key), null);
      await sleep(Math.max(step, 300) + step + 300);
      assert.equal(await store.get(key), null);
    });

    it('touch restarts the TTL of an existing key and does not create a missing one', async () => {
      const key = uniqueKey();
      const ttl = Math.max(step * 2, 600);
      await store.create(key, 'x', ttl);
      await sleep(ttl / 2);
      await store.touch(key, ttl * 4);
      await sleep(ttl + step);
      assert.notEqual(await store.get(key), null, 'touched key must outlive its first TTL');
      const missing = uniqueKey();
      await store.touch(missing, 60_000);
      assert.equal(await store.get(missing), null);
    });

    it('get with refreshTtlMs restarts the TTL in the same call', async () => {
      const key = uniqueKey();
      const ttl = Math.max(step * 2, 600);
      await store.create(key, 'x', ttl);
      await sleep(ttl / 2);
      assert.notEqual(await store.get(key, ttl * 4), null);
      await sleep(ttl + step);
      assert.notEqual(await store.get(key), null, 'refreshed key must outlive its first TTL');
    });

    it('replace sets the TTL it is given', async () => {
      const key = uniqueKey();
      await store.create(key, 'v1', 60_000);
      await store.replace(key, 'v1', 'v2', Math.max(step, 300));
      await sleep(Math.max(step, 300) + step + 300);
      assert.equal(await store.get(key), null);
    });

    it(`concurrent creates of one key: exactly one wins${concurrency.title}`, concurrency.options, async () => {
      const key = uniqueKey();
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.create(key, `v${i}`, 60_000)));
      assert.equal(results.filter(Boolean).length, 1);
    });

    it(`concurrent replaces from one expected value: exactly one wins${concurrency.title}`, concurrency.options, async () => {
      const key = uniqueKey();
      await store.create(key, 'base', 60_000);
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.replace(key, 'base', `v${i}`, 60_000)));
      assert.equal(results.filter((r) => r.status === 'ok').length, 1);
      assert.equal(results.filter((r) => r.status === 'conflict').length, 7);
    });

    it('replaceAndRelease, where the store has it: releases the lease only when it holds the token, whatever the compare-and-set answers', async (t) => {
      if (!store.replaceAndRelease) {
        t.diagnostic(`${name} has no replaceAndRelease (option \`lock\` releases the lease with deleteIf)`);
        return;
      }
      const [session, gone] = [uniqueKey(), uniqueKey()];
      const lease = `${session}:lock`;
      await store.create(session, 'v1', 60_000);
      await store.create(lease, 'mine', 60_000);
      assert.deepEqual(await store.replaceAndRelease(session, 'v1', 'v2', 60_000, lease, 'mine'), { status: 'ok' });
      assert.equal(await store.get(lease), null);
      assert.equal(String(await store.get(session)), 'v2');
      // A conflict releases too (the writer is done with the lease) and leaves the session as it was.
      await store.create(lease, 'mine', 60_000);
      assert.equal((await store.replaceAndRelease(session, 'v1', 'v3', 60_000, lease, 'mine')).status, 'conflict');
      assert.equal(await store.get(lease), null);
      assert.equal(String(await store.get(session)), 'v2');
      // Another writer's lease is not touched.
      await store.create(lease, 'theirs', 60_000);
      assert.deepEqual(await store.replaceAndRelease(session, 'v2', 'v4', 60_000, lease, 'mine'), { status: 'ok' });
      assert.equal(String(await store.get(lease)), 'theirs');
      // A session gone: nothing created, the lease still released.
      await store.create(`${gone}:lock`, 'mine', 60_000);
      assert.deepEqual(await store.replaceAndRelease(gone, 'v1', 'v2', 60_000, `${gone}:lock`, 'mine'), { status: 'missing' });
      assert.equal(await store.get(gone), null);
      assert.equal(await store.get(`${gone}:lock`), null);
    });

    it('the user index, where the store has one, lists and forgets sessions', { skip: false }, async (t) => {
      const index = store.userIndex;
      if (!index) {
        t.diagnostic(`${name} has no user index (it cannot enumerate)`);
        return;
      }
      const user = `user:${uniqueKey()}`;
      const [a, b] = [uniqueKey(), uniqueKey()];
      await store.create(a, 'a', 60_000);
      await store.create(b, 'b', 60_000);
      await index.add(user, a, 60_000);
      await index.add(user, b, 60_000);
      assert.deepEqual((await index.list(user)).sort(), [a, b].sort());
      await index.remove(user, a);
      assert.deepEqual(await index.list(user), [b]);
      await store.delete(b);
      assert.deepEqual(await index.list(user), [], 'a deleted session is not listed');
    });
  });
}
