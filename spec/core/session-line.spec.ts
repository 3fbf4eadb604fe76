/**
 * The line of a session's writers (core/session-line.ts) on its own: one writer costs one map entry
 * and no promise; writers go in arrival order, each starting from the value the one before left; a
 * writer waits at most `turnWait`; the store lease of option `lock` is taken by the head of the line,
 * handed down it, and released once the last write lands.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryStore } from 'koa-qsession';
import { Handover, SessionLines, type Turn } from '../../src/core/session-line.js';
import { boundedStoreCall, StoreBudget } from '../../src/core/store-call.js';

function lines(waitMs: number, leaseTtl?: number, store = new MemoryStore()) {
  const guard = boundedStoreCall('memory', 1000);
  return { store, lines: new SessionLines({ waitMs, store, guard, leaseTtl, read: (key, budget) => guard('get', store.get(key), budget) }) };
}

describe('the line of a session\'s writers', () => {
  it('a lone writer gets its turn at once, with no promise, and leaves nothing behind', () => {
    const { lines: l } = lines(1000);
    const turn = l.enter('session:a', new StoreBudget());
    assert.ok(!(turn instanceof Promise));
    assert.equal(turn.from, undefined);
    assert.equal(l.leave(turn, undefined), undefined);
    assert.equal((l as unknown as { lines: Map<string, unknown> }).lines.size, 0);
  });

  it('writers go in arrival order, each starting from the value the one before left', async () => {
    const { lines: l } = lines(1000);
    const first = l.enter('session:a', new StoreBudget()) as Turn;
    const order: string[] = [];
    const second = (l.enter('session:a', new StoreBudget()) as Promise<Turn>).then((turn) => (order.push('second'), turn));
    const third = (l.enter('session:a', new StoreBudget()) as Promise<Turn>).then((turn) => (order.push('third'), turn));
    await sleep(5);
    assert.deepEqual(order, []);
    const left = new Handover('v1', undefined);
    l.leave(first, left);
    const held = await second;
    assert.equal(held.from, left);
    await sleep(5);
    assert.deepEqual(order, ['second']);
    l.leave(held, new Handover('v2', undefined));
    assert.equal((await third).from?.value, 'v2');
  });

  it('a save still in flight when its writer leaves is where a writer that comes before it lands starts', async () => {
    const { lines: l } = lines(1000);
    const first = l.enter('session:a', new StoreBudget()) as Turn;
    let land!: () => void;
    const left = new Handover('v1', new Promise<void>((resolve) => (land = resolve)));
    l.leave(first, left);
    const late = l.enter('session:a', new StoreBudget()) as Turn;
    assert.equal(late.from, left);
    l.leave(late, late.from);
    land();
    l.settled('session:a', left);
    const after = l.enter('session:a', new StoreBudget()) as Turn;
    assert.equal(after.from, undefined, 'once it landed, the next writer reads the store');
  });

  it('nobody waits longer than turnWait: then it goes ahead in parallel, from what the holder started from', async () => {
    const { lines: l } = lines(40);
    const slow = l.enter('session:a', new StoreBudget()) as Turn;
    const started = Date.now();
    const next = await (l.enter('session:a', new StoreBudget()) as Promise<Turn>);
    const waited = Date.now() - started;
    assert.ok(waited >= 35, `waited ${waited} ms`);
    assert.equal(next.from, undefined);
    // The slow holder leaving later hands nothing to the one that went ahead.
    l.leave(slow, new Handover('late', undefined));
    l.leave(next, undefined);
    assert.equal((l as unknown as { lines: Map<string, unknown> }).lines.size, 0);
  });

  it('turnWait 0: nobody waits', () => {
    const { lines: l } = lines(0);
    const a = l.enter('session:a', new StoreBudget());
    const b = l.enter('session:a', new StoreBudget());
    assert.ok(!(a instanceof Promise) && !(b instanceof Promise));
  });

  it('lock: the head takes the store lease, hands it down the line, and the last one releases it after its save', async () => {
    const { lines: l, store } = lines(1000, 5000);
    const first = await l.enter('session:a', new StoreBudget());
    assert.ok(first.lease);
    const token = first.lease.token;
    assert.equal(await store.get('session:a:lock'), token);
    const second = l.enter('session:a', new StoreBudget()) as Promise<Turn>;
    l.leave(first, new Handover('v1', undefined));
    const held = await second;
    assert.equal(held.lease?.token, token, 'handed down, not taken again');
    let land!: () => void;
    const released = l.leave(held, new Handover('v2', new Promise<void>((resolve) => (land = resolve))));
    assert.ok(released);
    assert.notEqual(await store.get('session:a:lock'), null, 'held until the save lands');
    land();
    await released;
    assert.equal(await store.get('session:a:lock'), null);
  });

  it('lock: a writer of another process waits for the lease, and goes ahead without it at turnWait', async () => {
    const store = new MemoryStore();
    const a = lines(1000, 5000, store).lines;
    const b = lines(60, 5000, store).lines;
    const holder = await a.enter('session:a', new StoreBudget());
    const started = Date.now();
    const other = await b.enter('session:a', new StoreBudget());
    assert.equal(other.lease, undefined);
    assert.ok(Date.now() - started >= 55);
    await a.leave(holder, undefined);
    const again = await b.enter('session:a', new StoreBudget());
    assert.ok(again.lease, 'free again once released');
    await b.leave(again, undefined);
  });
  it('lock: a lease taken afresh reads the store, not a save of its own process another process may have overtaken', async () => {
    // The fleet failure this guards: worker A's writer leaves with its save in flight and nobody
    // behind it; A's next writer starts from that save but must take the lease again; worker B's
    // writer takes it first and saves. Starting from A's older value, A's writer would then be
    // refused (409) though it held the lease.
    const store = new MemoryStore();
    const a = lines(1000, 5000, store).lines;
    const b = lines(1000, 5000, store).lines;
    const first = await a.enter('session:a', new StoreBudget());
    assert.ok(first.lease);
    let land!: () => void;
    const inFlight = new Handover('v1', new Promise<void>((resolve) => (land = resolve)));
    const released = a.leave(first, inFlight);
    const next = a.enter('session:a', new StoreBudget());
    assert.ok(next instanceof Promise, 'the lease is still held: it waits');
    land();
    a.settled('session:a', inFlight);
    await released;
    const elsewhere = await b.enter('session:a', new StoreBudget());
    assert.ok(elsewhere.lease, 'the other process takes the free lease');
    await store.create('session:a', 'v2', 60_000); // its save
    await b.leave(elsewhere, new Handover('v2', undefined));
    const turn = await next;
    assert.ok(turn.lease);
    assert.equal(turn.from?.value, 'v2', 'a fresh lease: it starts from what the store holds now');
    await a.leave(turn, undefined);
  });

  /** The memory store with the lease's answer held back 30 ms, recording the calls in order. */
  async function heldBackLease(holdsBothKeys: boolean) {
    const inner = new MemoryStore();
    await inner.create('session:a', 'stored', 60_000);
    const calls: string[] = [];
    const store = Object.assign(Object.create(inner) as MemoryStore, {
      async create(key: string, value: string, ttl: number) {
        calls.push(`create ${key}`);
        await sleep(30);
        calls.push('create answered');
        return inner.create(key, value, ttl);
      },
      get(key: string, ttl?: number) {
        calls.push(`get ${key}`);
        return inner.get(key, ttl);
      },
      // A store with it holds a session's key and its lease key together, in call order (Redis, not Cluster).
      replaceAndRelease: holdsBothKeys ? (key: string, expected: string, value: string, ttl: number) => inner.replace(key, expected, value, ttl) : undefined,
    });
    return { calls, store };
  }

  it('lock, on a store that keeps call order: the session is read in the same round trip as the lease is taken', async () => {
    // The read must not wait for the lease's answer.
    const { calls, store } = await heldBackLease(true);
    const turn = await lines(1000, 5000, store).lines.enter('session:a', new StoreBudget());
    assert.deepEqual(calls, ['create session:a:lock', 'get session:a', 'create answered']);
    assert.ok(turn.lease);
    assert.equal(turn.from?.value, 'stored', 'the load starts from that read: no second one');
  });

  it('lock: while another process holds the lease, its retries send no read; the take that succeeds reads once, after it', async () => {
    const store = new MemoryStore();
    await store.create('session:a', 'stored', 60_000);
    const other = lines(1000, 5000, store).lines;
    const held = await other.enter('session:a', new StoreBudget());
    let creates = 0;
    let reads = 0;
    const counting = Object.assign(Object.create(store) as MemoryStore, {
      create(key: string, value: string, ttl: number) {
        creates++;
        return store.create(key, value, ttl);
      },
      get(key: string, ttl?: number) {
        reads++;
        return store.get(key, ttl);
      },
    });
    const waiting = lines(1000, 5000, counting).lines.enter('session:a', new StoreBudget());
    await sleep(40);
    await other.leave(held, undefined);
    const turn = await waiting;
    assert.ok(turn.lease, 'taken once released');
    assert.ok(creates >= 3, `it tried several times: ${creates} takes`);
    assert.equal(reads, 2, `a read with the first take and one after the take that succeeded, none with the ${creates - 2} retries between`);
    assert.equal(turn.from?.value, 'stored', 'the load starts from the read after the take: no third one');
  });

  it('lock, where the lease and the session may be on different servers (Redis Cluster): the session is read after the lease is taken', async () => {
    const { calls, store } = await heldBackLease(false);
    const turn = await lines(1000, 5000, store).lines.enter('session:a', new StoreBudget());
    assert.deepEqual(calls, ['create session:a:lock', 'create answered']);
    assert.ok(turn.lease);
    assert.equal(turn.from, undefined, 'the load reads the session now');
  });
});
