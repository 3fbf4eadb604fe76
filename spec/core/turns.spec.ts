/**
 * Requests of one session in one process take turns from load to commit (option `turnWait`): a
 * parallel read-modify-write loses no update, a request behind a writer starts from that writer's
 * value without a store read, a slow turn stops holding up the next one after `turnWait`, and a
 * request that started from a save that then failed fails too (it would otherwise store changes its
 * predecessor was told were not saved).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Koa from 'koa';
import { MemoryStore, jsonSerializer, qsession, session, type QSessionOptions, type ReplaceResult, type StoredValue } from 'koa-qsession';
import { createEvents } from '../../src/core/events.js';
import { SessionTurns } from '../../src/core/turns.js';
import { Lifecycle, resolveOptions } from '../../src/internal.js';
import { Client, serve, type Served } from '../support/http.js';
import { RecordingStore } from '../support/recording-store.js';

/** A recording memory store whose replaces can be made to fail (a store outage in the middle of a burst). */
class FlakyStore extends RecordingStore {
  failNextReplaces = 0;
  override async replace(key: string, expected: StoredValue, value: StoredValue, ttlMs: number): Promise<ReplaceResult> {
    await sleep(20); // the save is in flight while the next request runs
    if (this.failNextReplaces > 0) {
      this.failNextReplaces--;
      this.calls.push('replace (failed)');
      throw new Error('connection lost');
    }
    return super.replace(key, expected, value, ttlMs);
  }
}

const servers: Served[] = [];
after(async () => {
  for (const served of servers) await served.close();
});

async function start(options: QSessionOptions = {}, store = new FlakyStore(new MemoryStore())) {
  const app = new Koa();
  app.silent = true;
  app.use(qsession({ store, ...options }));
  app.use(async (ctx) => {
    const [, route] = ctx.path.split('/');
    const pause = Number(ctx.query.ms ?? 5);
    switch (route) {
      case 'increment': {
        // Read, wait (a database call, say), write: the shape that loses updates without turns.
        const count = (session.count as number | undefined) ?? 0;
        await sleep(pause);
        session.count = count + 1;
        ctx.body = String(count + 1);
        return;
      }
      case 'read':
        if (ctx.query.ms) await sleep(pause);
        ctx.body = String(session.count ?? 'none');
        return;
      case 'destroy':
        await sleep(pause);
        session.destroy();
        ctx.body = 'ok';
        return;
      case 'login':
        await sleep(pause);
        session.regenerate();
        session.user = 'ann';
        ctx.body = 'ok';
        return;
      case 'set':
        session.cart = 'apple';
        ctx.body = JSON.stringify(session.toJSON());
        return;
      case 'dump':
        ctx.body = JSON.stringify(session.toJSON());
        return;
    }
  });
  const served = await serve(app);
  servers.push(served);
  return { store, client: () => new Client(served.url) };
}

/** A browser whose session was incremented once, then 4 parallel requests of `path`: their replies, and the store reads they made. */
async function burst(options: QSessionOptions, path: string) {
  const { store, client } = await start(options);
  const browser = client();
  await browser.get('/increment');
  store.reset();
  const replies = await Promise.all(Array.from({ length: 4 }, () => browser.get(path)));
  return { replies, gets: store.calls.filter((call) => call.startsWith('get')).length, calls: store.calls.join(', ') };
}

describe('session turns (turnWait)', () => {
  it('16 parallel increments of one session: every one counted, each answer a different count', async () => {
    const { client } = await start();
    const browser = client();
    await browser.get('/increment');
    const replies = await Promise.all(Array.from({ length: 16 }, () => browser.get('/increment')));
    assert.deepEqual(replies.map((r) => r.status), replies.map(() => 200));
    assert.deepEqual(replies.map((r) => Number(r.text)).sort((a, b) => a - b), Array.from({ length: 16 }, (_, i) => i + 2));
    assert.equal((await browser.get('/read')).text, '17');
  });

  it('without turns (turnWait: 0) the same burst loses updates: what the turns are for', async () => {
    const { client } = await start({ turnWait: 0 });
    const browser = client();
    await browser.get('/increment');
    await Promise.all(Array.from({ length: 16 }, () => browser.get('/increment')));
    assert.ok(Number((await browser.get('/read')).text) < 17);
  });

  it('a request behind a writer starts from its value: no store read of its own', async () => {
    const { gets, calls } = await burst({}, '/increment?ms=30');
    assert.equal(gets, 1, calls);
  });

  it('a reader behind a reader starts from what that one loaded, while it is younger than turnWait', async () => {
    const { replies, gets, calls } = await burst({ turnWait: 1000 }, '/read?ms=30');
    assert.deepEqual(replies.map((r) => r.text), ['1', '1', '1', '1']);
    assert.equal(gets, 1, calls);
  });

  it('a line of readers longer than turnWait reads the store again', async () => {
    // Each turn takes 30 ms: the value the first reader loaded is over 50 ms old by the third.
    const { gets, calls } = await burst({ turnWait: 50 }, '/read?ms=30');
    assert.ok(gets >= 2, calls);
  });

  it('a request that comes while the last save is still in flight starts from that save, not from the store', async () => {
    const { client } = await start();
    const browser = client();
    await browser.get('/increment');
    // The first turn ends at once and its save takes 20 ms; the second comes in between.
    await Promise.all([browser.get('/increment?ms=0'), sleep(8).then(() => browser.get('/increment?ms=0'))]);
    assert.equal((await browser.get('/read')).text, '3');
  });

  it('a turn longer than turnWait lets the next request go ahead', async () => {
    const { client } = await start({ turnWait: 30 });
    const browser = client();
    await browser.get('/increment');
    const finished: string[] = [];
    await Promise.all([
      browser.get('/increment?ms=400').then(() => finished.push('slow')),
      sleep(20).then(() => browser.get('/read')).then(() => finished.push('read')),
    ]);
    assert.deepEqual(finished, ['read', 'slow']);
  });

  it('a save that fails takes the requests that started from it down too, and stores none of their changes', async () => {
    const { store, client } = await start();
    const browser = client();
    await browser.get('/increment');
    store.failNextReplaces = 1;
    // The second arrives during the first's turn (15 ms), so it starts from the first's value.
    const replies = await Promise.all([browser.get('/increment?ms=15'), sleep(2).then(() => browser.get('/increment?ms=0'))]);
    assert.deepEqual(replies.map((r) => r.status), [503, 503]);
    assert.equal((await browser.get('/read')).text, '1', 'neither increment was stored');
    assert.equal((await browser.get('/increment')).text, '2', 'the session works again');
  });

  it('a request behind one that destroys the session finds it gone', async () => {
    const { store, client } = await start();
    const browser = client();
    await browser.get('/increment');
    const cookie = browser.cookieHeader!;
    const [, second] = await Promise.all([browser.get('/destroy?ms=20', { cookie }), sleep(2).then(() => browser.get('/increment', { cookie }))]);
    assert.equal(second.text, '1', 'a fresh session: the destroyed count is not seen');
    assert.equal(store.calls.includes('delete'), true);
  });
});

describe('session turns and a login or logout (the old cookie never wins)', () => {
  // The login takes 120 ms (turnWait 2 s), so the request sent 5 ms after it is in line before it
  // answers even on a loaded machine; a request that comes after the answer is the last spec's case.
  it('a write that waited behind a login (regenerate) sends no cookie: the login stands', async () => {
    const { client } = await start({ turnWait: 2000 });
    for (let run = 0; run < 10; run++) {
      const browser = client();
      await browser.get('/increment');
      const old = browser.cookieHeader!;
      // The write leaves the browser during the login, with the old cookie, and waits for its turn.
      const [login, late] = await Promise.all([browser.get('/login?ms=120'), sleep(5).then(() => browser.get('/set', { cookie: old }))]);
      assert.equal(login.status, 200);
      assert.equal(late.status, 200);
      assert.deepEqual(late.setCookies, [], 'the late write does not replace the login cookie');
      assert.equal((JSON.parse((await browser.get('/dump')).text) as { user?: string }).user, 'ann');
    }
  });

  it('a destroy that waited behind a login does not clear the login cookie either', async () => {
    const { client } = await start({ turnWait: 2000 });
    const browser = client();
    await browser.get('/increment');
    const old = browser.cookieHeader!;
    const [, late] = await Promise.all([browser.get('/login?ms=120'), sleep(5).then(() => browser.get('/destroy?ms=0', { cookie: old }))]);
    assert.deepEqual(late.setCookies, []);
    assert.equal((JSON.parse((await browser.get('/dump')).text) as { user?: string }).user, 'ann');
  });

  it('a request with the old cookie that comes after the login has answered still gets a session of its own', async () => {
    const { client } = await start();
    const browser = client();
    await browser.get('/increment');
    const old = browser.cookieHeader!;
    await browser.get('/login?ms=0');
    const later = await client().get('/set', { cookie: old });
    assert.equal(later.setCookies.length, 1, 'not superseded: it did not wait behind the login');
  });
});

/** A recording memory store whose replaces wait until the spec opens the gate (a slow save). */
class GatedStore extends RecordingStore {
  gate: Promise<void> | undefined;
  override async replace(key: string, expected: StoredValue, value: StoredValue, ttlMs: number): Promise<ReplaceResult> {
    await this.gate;
    return super.replace(key, expected, value, ttlMs);
  }
}

const ok = { isStatic: false, failed: false };

/** A lifecycle (turnWait 50 ms) over a gated store, a session holding `count: 0`, and the gate closed: saves wait for `open()`. */
async function gatedSession() {
  const store = new GatedStore(new MemoryStore());
  const lc = new Lifecycle({ options: resolveOptions({ turnWait: 50 }), store, serializer: jsonSerializer, events: createEvents() });
  const seed = lc.fresh(false);
  seed.session.count = 0;
  await lc.commit(seed, ok);
  lc.release(seed);
  let open!: () => void;
  store.gate = new Promise((resolve) => (open = resolve));
  return { lc, seed, open };
}

/** `session.count += 1` on a loaded record, then its commit (whose save waits at the gate). */
function increment(lc: Lifecycle, record: Awaited<ReturnType<Lifecycle['open']>>) {
  record.session.count = (record.session.count as number) + 1;
  return lc.commit(record, ok);
}

describe('session turns and a save slower than turnWait (lifecycle, no HTTP)', () => {
  it('a request behind a reader that started from a save still in flight starts from that save, however old', async () => {
    const { lc, seed, open } = await gatedSession();
    try {
      const writer = await lc.open(seed.id);
      const written = increment(lc, writer);
      // A quick reader starts from the writer's value and passes it on.
      const reader = await lc.open(seed.id);
      assert.equal(reader.session.count, 1);
      await lc.commit(reader, ok);
      lc.release(reader);
      // Longer than turnWait later, the writer's save has still not landed: the store holds count 0.
      await sleep(80);
      const late = await lc.open(seed.id);
      assert.equal(late.session.count, 1, 'it starts from the save in flight, not from the older stored value');
      const lateWritten = increment(lc, late);
      open();
      await written;
      await lateWritten;
      lc.release(writer);
      lc.release(late);
      assert.equal((await lc.open(seed.id)).session.count, 2, 'no update lost');
    } finally {
      open();
    }
  });

  it('a request that overtakes a slow turn still starts from the save in flight before it', async () => {
    const { lc, seed, open } = await gatedSession();
    try {
      const writer = await lc.open(seed.id);
      const written = increment(lc, writer);
      // The next turn starts from the writer's value and goes on past turnWait (a slow handler).
      const slow = await lc.open(seed.id);
      assert.equal(slow.session.count, 1);
      // The one after it goes ahead after turnWait; the writer's save has still not landed.
      const late = await lc.open(seed.id);
      assert.equal(late.session.count, 1, 'it starts from the save in flight, not from the older stored value');
      const lateWritten = increment(lc, late);
      open();
      await written;
      await lateWritten;
      await lc.commit(slow, ok);
      for (const record of [writer, slow, late]) lc.release(record);
      assert.equal((await lc.open(seed.id)).session.count, 2, 'no update lost');
    } finally {
      open();
    }
  });
});

describe('SessionTurns', () => {
  it('the first request of a session gets its turn at once (no promise); the next waits for it', async () => {
    const turns = new SessionTurns(1000);
    const first = turns.enter('a');
    assert.ok(!(first instanceof Promise));
    const other = turns.enter('b');
    assert.ok(!(other instanceof Promise), 'another session does not wait');
    const second = turns.enter('a');
    assert.ok(second instanceof Promise);
    const handover = { stored: '{"n":1}', ticket: { state: 'pending' as const } };
    first.release(handover);
    first.release(); // idempotent: does not let a third one in
    assert.equal((await second).handover, handover);
    (await second).release();
    other.release();
    assert.equal(turns.size, 0, 'nothing is left behind');
  });

  it('a holder still loading after turnWait (waiting on the store): everyone waiting goes at once, stalled', async () => {
    const turns = new SessionTurns(100);
    const first = await turns.enter('a');
    const waiting = [turns.enter('a'), turns.enter('a'), turns.enter('a')];
    const started = Date.now();
    const admitted = await Promise.all(waiting);
    const waited = Date.now() - started;
    assert.ok(admitted.every((turn) => turn.stalled), 'each is told its wait was on the store');
    assert.ok(waited < 200, `all three went after one turnWait, together (${waited} ms), not one turnWait each (300 ms)`);
    // The holder keeps its place; a request that comes now goes at once, stalled too.
    const late = await turns.enter('a');
    assert.equal(late.stalled, true);
    first.release();
    assert.equal(turns.size, 0, 'nothing is left behind');
  });

  it('a holder that has loaded (in its handler) after turnWait: the next one goes, alone and not stalled', async () => {
    const turns = new SessionTurns(200);
    const first = await turns.enter('a');
    first.loaded();
    const second = Promise.resolve(turns.enter('a'));
    const third = Promise.resolve(turns.enter('a'));
    let thirdIn = false;
    void third.then(() => (thirdIn = true));
    const turn2 = await second;
    assert.equal(turn2.stalled, false);
    turn2.loaded();
    await sleep(10);
    assert.equal(thirdIn, false, 'the third waits for the second turn');
    turn2.release();
    const turn3 = await third;
    assert.equal(turn3.stalled, false);
    turn3.release();
    first.release();
    assert.equal(turns.size, 0);
  });

  it('turnWait 0: nobody waits', () => {
    const turns = new SessionTurns(0);
    turns.enter('a');
    assert.ok(!(turns.enter('a') instanceof Promise));
    assert.equal(turns.size, 0);
  });
});
