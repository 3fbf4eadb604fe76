import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore } from 'koa-qsession';
import { lifecycleOn, OK } from '../support/redis-app.js';

/**
 * Issue 17, memory-store row: a flood of one-shot sessions (100 x `maxEntries` of them, scaled down
 * from 100k writes against the default 100k bound) must not evict users who came back. Driven
 * through the real lifecycle, as requests would.
 */
const MAX_ENTRIES = 1000;
const FLOOD = 100 * MAX_ENTRIES;

describe('the memory store under a flood of one-shot sessions', () => {
  it(`${FLOOD} anonymous writes, maxEntries ${MAX_ENTRIES}: 10 of 10 idle users who came back once survive`, async (t) => {
    const store = new MemoryStore({ maxEntries: MAX_ENTRIES });
    const lifecycle = lifecycleOn(store);
    const users: string[] = [];
    for (let i = 0; i < 10; i++) {
      const login = lifecycle.fresh(false);
      login.session.user = `u${i}`;
      const decision = await lifecycle.commit(login, OK);
      assert.equal(decision.kind, 'set');
      users.push(login.id);
      // The user comes back once (a page view): a second access.
      assert.equal((await lifecycle.open(login.id)).session.user, `u${i}`);
    }
    for (let i = 0; i < FLOOD; i++) {
      const oneShot = lifecycle.fresh(false);
      oneShot.session.visit = i;
      await lifecycle.commit(oneShot, OK);
    }
    assert.ok(store.size <= MAX_ENTRIES, `bounded: ${store.size}`);
    let survived = 0;
    for (const [i, id] of users.entries()) if ((await lifecycle.open(id)).session.user === `u${i}`) survived++;
    t.diagnostic(`idle users who came back once, still logged in after ${FLOOD} one-shot sessions: ${survived} of ${users.length}`);
    assert.equal(survived, users.length);
  });

  it('one-shot sessions still get room: the newest are kept, the oldest one-shots go first', async () => {
    const store = new MemoryStore({ maxEntries: 10 });
    for (let i = 0; i < 30; i++) await store.create(`k${i}`, 'v', 60_000);
    assert.equal(store.size, 10);
    assert.equal(await store.get('k19'), null);
    assert.equal(await store.get('k29'), 'v');
  });

  it('returning users beyond the protected share are demoted to probation, not dropped at once', async () => {
    const store = new MemoryStore({ maxEntries: 10 }); // protected holds 8
    for (let i = 0; i < 10; i++) await store.create(`u${i}`, 'v', 60_000);
    for (let i = 0; i < 10; i++) await store.get(`u${i}`); // all came back; u0 and u1 are demoted
    assert.equal(store.size, 10);
    await store.create('new', 'v', 60_000); // evicts the oldest of probation: u0
    assert.equal(await store.get('u0'), null);
    for (let i = 1; i < 10; i++) assert.equal(await store.get(`u${i}`), 'v', `u${i}`);
  });
});
