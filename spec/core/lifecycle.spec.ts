import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore, SessionConflictError, jsonSerializer, type QSessionOptions } from 'koa-qsession';
import { idLabel } from '../../src/core/signing.js';
import { Lifecycle } from '../../src/internal.js';
import { createEvents } from '../../src/core/events.js';
import { resolveOptions } from '../../src/internal.js';
import { RecordingStore } from '../support/recording-store.js';
import { withoutExpiry } from '../support/decision.js';

const ok = { isStatic: false, failed: false };

function lifecycle(options: QSessionOptions = {}) {
  const store = new RecordingStore(new MemoryStore());
  const events = createEvents();
  return { store, events, lifecycle: new Lifecycle({ options: resolveOptions(options), store, serializer: jsonSerializer, events }) };
}

describe('lifecycle (no HTTP)', () => {
  it('no cookie: a fresh session without any store call; untouched, it sends no cookie', async () => {
    const { store, lifecycle: lc } = lifecycle();
    const record = await lc.open(undefined);
    assert.equal(record.isNew, true);
    assert.deepEqual(await lc.commit(record, ok), { kind: 'none' });
    assert.deepEqual(store.calls, []);
  });

  it('creates, loads, updates and deletes through the store', async () => {
    const { store, lifecycle: lc } = lifecycle();
    const first = await lc.open(undefined);
    first.session.user = 'ann';
    const created = await lc.commit(first, ok);
    assert.deepEqual(withoutExpiry(created), { kind: 'set', id: first.id });
    const second = await lc.open(first.id);
    assert.equal(second.isNew, false);
    assert.equal(second.session.user, 'ann');
    second.session.clear();
    assert.deepEqual(await lc.commit(second, ok), { kind: 'clear' });
    assert.deepEqual(store.calls, ['create', 'get', 'deleteIf']);
  });

  it('merges concurrent changes to different keys; the same key changed by both is a conflict (409), nothing of it stored', async () => {
    const { lifecycle: lc, events } = lifecycle();
    const seed = await lc.open(undefined);
    seed.session.shared = 0;
    await lc.commit(seed, ok);
    const [a, b, c] = [await lc.open(seed.id), await lc.open(seed.id), await lc.open(seed.id)];
    a.session.a = 1;
    a.session.shared = 'a';
    b.session.b = 2;
    b.session.shared = 'b';
    c.session.c = 3;
    delete c.session.missing;
    const conflicts: unknown[] = [];
    events.on('conflict', (event) => conflicts.push(event));
    await lc.commit(a, ok);
    await assert.rejects(Promise.resolve(lc.commit(b, ok)), (error: unknown) => error instanceof SessionConflictError && error.status === 409 && error.keys.join() === 'shared');
    await lc.commit(c, ok);
    assert.deepEqual(conflicts, [{ session: idLabel(seed.id), keys: ['shared'], resolution: 'failed' }]);
    const after = await lc.open(seed.id);
    assert.deepEqual(after.session.toJSON(), { shared: 'a', a: 1, c: 3 });
  });

  it("onConflict 'overwrite': the same key is last-writer-wins, with a conflict event", async () => {
    const { lifecycle: lc, events } = lifecycle({ onConflict: 'overwrite' });
    const seed = await lc.open(undefined);
    seed.session.shared = 0;
    await lc.commit(seed, ok);
    const [a, b] = [await lc.open(seed.id), await lc.open(seed.id)];
    a.session.a = 1;
    a.session.shared = 'a';
    b.session.b = 2;
    b.session.shared = 'b';
    const conflicts: unknown[] = [];
    events.on('conflict', (event) => conflicts.push(event));
    await lc.commit(a, ok);
    await lc.commit(b, ok);
    assert.deepEqual(conflicts, [{ session: idLabel(seed.id), keys: ['shared'], resolution: 'overwritten' }]);
    assert.deepEqual((await lc.open(seed.id)).session.toJSON(), { shared: 'b', a: 1, b: 2 });
  });

  it('merges a nested change made in one request with a key deleted in another', async () => {
    const { lifecycle: lc } = lifecycle();
    const seed = await lc.open(undefined);
    seed.session.cart = { items: [] };
    seed.session.flash = 'hi';
    await lc.commit(seed, ok);
    const [a, b] = [await lc.open(seed.id), await lc.open(seed.id)];
    (a.session.cart as { items: string[] }).items.push('x');
    delete b.session.flash;
    await lc.commit(b, ok);
    await lc.commit(a, ok);
    assert.deepEqual((await lc.open(seed.id)).session.toJSON(), { cart: { items: ['x'] } });
  });

  it('an update never recreates a session another request destroyed', async () => {
    const { lifecycle: lc, store } = lifecycle();
    const seed = await lc.open(undefined);
    seed.session.x = 1;
    await lc.commit(seed, ok);
    const [slow, killer] = [await lc.open(seed.id), await lc.open(seed.id)];
    killer.session.destroy();
    assert.deepEqual(await lc.commit(killer, ok), { kind: 'clear' });
    slow.session.y = 2;
    // Refused (409), and no cookie: the browser may already hold a newer one (issue 17).
    await assert.rejects(Promise.resolve(lc.commit(slow, ok)), (error: unknown) => error instanceof SessionConflictError && error.reason === 'gone');
    assert.equal(await store.inner.get(`session:${seed.id}`), null);
  });

  it('a value that does not decode: fresh session, entry left alone, event without the value or the id', async () => {
    const { lifecycle: lc, store, events } = lifecycle();
    const id = 'B'.repeat(43);
    await store.inner.create(`session:${id}`, 'not json {secret}', 60_000);
    const seen: unknown[] = [];
    events.on('decode-error', (event) => seen.push(event));
    const record = await lc.open(id);
    assert.equal(record.isNew, true);
    assert.notEqual(record.id, id);
    assert.equal(await store.inner.get(`session:${id}`), 'not json {secret}', 'the entry is left alone');
    assert.equal(seen.length, 1);
    const text = JSON.stringify(seen, (_k, v: unknown) => (v instanceof Error ? v.message : v));
    assert.doesNotMatch(text, /secret/);
    assert.doesNotMatch(text, /BBBBBBBB/, 'the event names the id');
    // An untouched fresh session stores nothing, and the cookie (maybe another app's) is not cleared.
    assert.deepEqual(await lc.commit(record, ok), { kind: 'none' });
    assert.equal(await store.inner.get(`session:${id}`), 'not json {secret}');
  });

  it('keeps the stored metadata and the permanent flag it was saved with', async () => {
    const { lifecycle: lc, store } = lifecycle();
    const id = 'C'.repeat(43);
    await store.inner.create(`session:${id}`, '{"_permanent":true,"_addr":"127.0.0.1","foo":"bar"}', 60_000);
    const record = await lc.open(id);
    assert.deepEqual(record.session.keys(), ['foo']);
    assert.equal(record.session.permanent, true);
    record.session.n = 1;
    await lc.commit(record, ok);
    assert.equal(await store.inner.get(`session:${id}`), '{"_permanent":true,"_addr":"127.0.0.1","foo":"bar","n":1}');
  });

  it('explicit mode ignores changes without dirty()', async () => {
    const { lifecycle: lc, store } = lifecycle({ explicit: true });
    const record = await lc.open(undefined);
    record.session.x = 1;
    assert.deepEqual(await lc.commit(record, ok), { kind: 'none' });
    assert.deepEqual(store.calls, []);
  });

  it('a session refused on load (pin mismatch, absolute timeout): its fresh replacement draws on the same storeTimeout budget', async () => {
    // The load's store calls took time; the replacement's save may only have what is left of it.
    class SlowGets extends MemoryStore {
      override async get(key: string, refreshTtlMs?: number) {
        await new Promise((resolve) => setTimeout(resolve, 40));
        return super.get(key, refreshTtlMs);
      }
    }
    const store = new SlowGets();
    const lc = new Lifecycle({ options: resolveOptions({ maxAge: 60 }), store, serializer: jsonSerializer, events: createEvents() });
    const pinned = 'D'.repeat(43);
    await store.create(`session:${pinned}`, '{"_permanent":true,"_addr":"10.0.0.1","_created":' + Date.now() / 1000 + ',"user":"ann"}', 60_000);
    const refusedPin = await lc.open(pinned, { address: '10.0.0.2' });
    assert.equal(refusedPin.isNew, true);
    assert.ok(refusedPin.budget.spentMs >= 35, `budget spent: ${refusedPin.budget.spentMs} ms`);
    const expired = 'E'.repeat(43);
    await store.create(`session:${expired}`, '{"_permanent":true,"_created":1,"user":"ann"}', 60_000);
    const refusedAge = await lc.open(expired);
    assert.equal(refusedAge.isNew, true);
    assert.ok(refusedAge.budget.spentMs >= 35, `budget spent: ${refusedAge.budget.spentMs} ms`);
  });
});
