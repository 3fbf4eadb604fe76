import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeyedQueue } from '../../src/stores/keyed-queue.js';

/** A call that runs until `finish()`; `started` resolves when it began. */
function gate() {
  let finish!: () => void;
  let began!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const started = new Promise<void>((resolve) => (began = resolve));
  return { finish, started, work: async () => (began(), await done, 'done') };
}

describe('KeyedQueue (per-key serialisation, stores/keyed-queue.ts)', () => {
  it('runs the calls of one key one after another, in order, and different keys side by side', async () => {
    const queue = new KeyedQueue();
    const log: string[] = [];
    const step = (name: string, ms: number) => async () => {
      log.push(`${name}+`);
      await sleep(ms);
      log.push(`${name}-`);
      return name;
    };
    const results = await Promise.all([queue.run('a', step('a1', 20)), queue.run('a', step('a2', 1)), queue.run('b', step('b1', 5)), queue.run('a', step('a3', 1))]);
    assert.deepEqual(results, ['a1', 'a2', 'b1', 'a3']);
    const a = log.filter((entry) => entry.startsWith('a'));
    assert.deepEqual(a, ['a1+', 'a1-', 'a2+', 'a2-', 'a3+', 'a3-'], 'no overlap within a key');
    assert.ok(log.indexOf('b1+') < log.indexOf('a1-'), 'b did not wait for a');
  });

  it('a failed call rejects its caller only; the next of its key still runs', async () => {
    const queue = new KeyedQueue();
    const failing = queue.run('k', async () => {
      throw new Error('boom');
    });
    const next = queue.run('k', async () => 'next');
    await assert.rejects(failing, /boom/);
    assert.equal(await next, 'next');
  });

  it('forgets a key once its last call is through', async () => {
    const queue = new KeyedQueue();
    await Promise.all([queue.run('a', async () => 1), queue.run('b', async () => 2), queue.run('a', async () => 3)]);
    await sleep(0);
    assert.equal(queue.size, 0);
  });

  it('without holdMs, waits for a slow call however long it takes', async () => {
    const queue = new KeyedQueue();
    const slow = gate();
    void queue.run('k', slow.work);
    await slow.started;
    let ran = false;
    const next = queue.run('k', async () => (ran = true));
    await sleep(60);
    assert.equal(ran, false);
    slow.finish();
    await next;
    assert.equal(ran, true);
  });

  it('with holdMs, a call that never answers holds up the next of its key for holdMs only', async () => {
    const queue = new KeyedQueue(40);
    const hung = gate();
    void queue.run('k', hung.work);
    await hung.started;
    let ran = false;
    const next = queue.run('k', async () => (ran = true));
    await sleep(5);
    assert.equal(ran, false, 'still held');
    // The hold timer is unref'd (it never keeps a process alive): a ref'd sleep keeps this one up.
    await Promise.all([next, sleep(80)]);
    assert.equal(ran, true, 'ran after holdMs, the first call still pending');
    hung.finish();
  });
});
