import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertCleared, closeAll, sessionCookie, start } from './app.js';

after(closeAll);

const createdOf = (stored: unknown) => (JSON.parse(stored as string) as { _created: number })._created;

describe('timeouts', () => {
  it('absolute timeout ends a session that keeps being used (rolling, a request every 300 ms)', async () => {
    const { store, sessions, client } = await start({ maxAge: 1500, rolling: true, lifetime: 60_000 });
    const timeouts: string[] = [];
    sessions.on('absolute-timeout', ({ session }) => timeouts.push(session));
    const browser = client();
    const began = Date.now();
    await browser.get('/set/user?v=ann');
    const id = browser.jar.get('session')!;
    let ended = 0;
    while (Date.now() - began < 3000) {
      await sleep(300);
      // The cookie itself is sent explicitly: its Expires has one-second resolution and the jar would drop it early.
      const reply = await browser.get('/read', { cookie: `session=${id}` });
      if (reply.text === '{}') {
        ended = Date.now() - began;
        assertCleared(reply.setCookies);
        break;
      }
      assert.equal(reply.text, '{"user":"ann"}');
    }
    assert.ok(ended >= 1500 && ended < 2200, `ended after ${ended} ms`);
    assert.equal(await store.inner.get(`session:${id}`), null);
    assert.equal(timeouts.length, 1);
    assert.ok(!timeouts[0]!.includes(id));
  });

  it('_created is stored as Unix seconds; store TTL and cookie expiry are capped at what remains', async () => {
    const { store, client } = await start({ maxAge: 1200, lifetime: 60_000 });
    const browser = client();
    const before = Date.now() / 1000;
    const reply = await browser.get('/set/a?v=1');
    const id = browser.jar.get('session')!;
    const stored = (await store.inner.get(`session:${id}`)) as string;
    assert.match(stored, /^\{"_permanent":true,"_created":\d+(\.\d+)?,"a":"1"\}$/);
    const created = createdOf(stored);
    assert.ok(created >= before - 0.001 && created <= Date.now() / 1000);
    const expires = Date.parse(sessionCookie(reply.setCookies)!.attributes.get('expires')!);
    assert.ok(expires - Date.now() <= 1200, 'the cookie expires with the absolute limit, not in 60 s');
    await sleep(1300);
    assert.equal(await store.inner.get(`session:${id}`), null, 'the store TTL was capped too');
  });

  it('the absolute limit is enforced on read whatever the store kept (a rolling GETEX refresh)', async () => {
    const { store, client } = await start({ maxAge: 1200, rolling: true, lifetime: 60_000 });
    const browser = client();
    await browser.get('/set/a?v=1');
    const id = browser.jar.get('session')!;
    const stored = (await store.inner.get(`session:${id}`)) as string;
    // Pretend another writer stored it with a long TTL.
    await store.inner.delete(`session:${id}`);
    await store.inner.create(`session:${id}`, stored, 60_000);
    await sleep(1250);
    assert.equal((await browser.get('/read')).text, '{}');
    assert.equal(await store.inner.get(`session:${id}`), null, 'the expired session was deleted');
  });

  it('regenerate() keeps the creation time (no extending the absolute limit); a session after destroy() starts anew', async () => {
    const { store, client } = await start({ maxAge: 60_000 });
    const browser = client();
    await browser.get('/set/a?v=1');
    const first = createdOf(await store.inner.get(`session:${browser.jar.get('session')!}`));
    await sleep(20);
    await browser.get('/regenerate');
    assert.equal(createdOf(await store.inner.get(`session:${browser.jar.get('session')!}`)), first);
    await browser.get('/destroy');
    await browser.get('/set/b?v=2');
    assert.ok(createdOf(await store.inner.get(`session:${browser.jar.get('session')!}`)) > first);
  });

  it('a session stored without _created (maxAge was off) adopts the current time at once', async () => {
    const plain = await start();
    const browser = plain.client();
    await browser.get('/set/a?v=1');
    const id = browser.jar.get('session')!;
    const limited = await start({ maxAge: 60_000 });
    await limited.store.inner.create(`session:${id}`, (await plain.store.inner.get(`session:${id}`))!, 60_000);
    assert.equal((await limited.client().get('/read', { cookie: `session=${id}` })).text, '{"a":"1"}');
    assert.match((await limited.store.inner.get(`session:${id}`)) as string, /"_created":\d/);
  });

  it('a non-numeric _created counts as expired', async () => {
    const { store, client } = await start({ maxAge: 60_000 });
    const id = 'B'.repeat(43);
    await store.inner.create(`session:${id}`, '{"_permanent":true,"_created":"soon","a":"1"}', 60_000);
    assert.equal((await client().get('/read', { cookie: `session=${id}` })).text, '{}');
  });

  it('idle timeout: lifetime without activity ends the session; rolling reads keep it alive', async () => {
    // Cookie expiry has one-second resolution, so lifetimes under a second would expire the cookie itself.
    const idle = await start({ lifetime: 1000 });
    const browser = idle.client();
    await browser.get('/set/a?v=1');
    const id = browser.jar.get('session')!;
    await sleep(1100);
    assert.equal((await browser.get('/read', { cookie: `session=${id}` })).text, '{}');

    const rolling = await start({ lifetime: 1000, rolling: true });
    const active = rolling.client();
    await active.get('/set/a?v=1');
    for (let i = 0; i < 4; i++) {
      await sleep(500);
      assert.equal((await active.get('/read')).text, '{"a":"1"}');
    }
  });
});

describe('regenerate() and destroy() end to end', () => {
  for (const [query, expected] of [
    ['', { user: 'ann', cart: 'c', theme: 't' }],
    ['?keep=all', { user: 'ann', cart: 'c', theme: 't' }],
    ['?keep=none', {}],
    ['?keep=cart,theme', { cart: 'c', theme: 't' }],
  ] as const) {
    it(`regenerate${query}: new id, old entry gone, data kept as asked`, async () => {
      const { store, client } = await start();
      const browser = client();
      await browser.get('/set/user?v=ann');
      await browser.get('/set/cart?v=c');
      await browser.get('/set/theme?v=t');
      const old = browser.jar.get('session')!;
      const reply = await browser.get(`/regenerate${query}`);
      const fresh = sessionCookie(reply.setCookies)?.value;
      assert.equal(await store.inner.get(`session:${old}`), null);
      if (Object.keys(expected).length === 0) {
        assertCleared(reply.setCookies);
      } else {
        assert.equal(fresh, reply.text);
        assert.notEqual(fresh, old);
      }
      assert.deepEqual(JSON.parse((await browser.get('/read')).text), expected);
      assert.equal((await client().get('/read', { cookie: `session=${old}` })).text, '{}');
    });
  }
});
