import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisStore, SessionStoreError } from 'koa-qsession';
import { startApp, type TestApp } from '../support/redis-app.js';
import { startStandalone, waitFor, type Standalone } from '../support/redis.js';
import { freePort } from '../support/process.js';

// Anything that escapes as an unhandled rejection or exception fails this file.
const escaped: unknown[] = [];
const onEscape = (error: unknown) => escaped.push(error);
process.on('unhandledRejection', onEscape);
process.on('uncaughtException', onEscape);
after(() => {
  process.off('unhandledRejection', onEscape);
  process.off('uncaughtException', onEscape);
});

const STORE_TIMEOUT = 500;

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await work();
  return { value, ms: performance.now() - start };
}

describe('redis store failures', () => {
  let redis: Standalone;
  let app: TestApp;
  let anonymous: TestApp;
  const handled: SessionStoreError[] = [];
  let custom: TestApp;
  before(async () => {
    redis = await startStandalone();
    const redisOption = { type: 'redis', redis: redis.server.url, storeTimeout: STORE_TIMEOUT } as const;
    app = await startApp(redisOption);
    anonymous = await startApp({ ...redisOption, onStoreError: 'anonymous' });
    custom = await startApp({
      ...redisOption,
      onStoreError: (error) => {
        handled.push(error);
      },
    });
    // Connected at start-up, as an app would, so the first request does not wait for it.
    for (const each of [app, anonymous, custom]) await (each.sessions.store as RedisStore).connect();
  });
  after(async () => {
    await app?.close();
    await anonymous?.close();
    await custom?.close();
    await redis?.cleanup();
  });

  it('a slow Redis answers 503 within storeTimeout, not when Redis wakes up', async () => {
    const id = (await app.request('/set?user=ann')).cookie!;
    // CLIENT PAUSE holds every client's commands (redis-cli's UNPAUSE too), so let it run out.
    const pause = 1500;
    await redis.server.cli('CLIENT', 'PAUSE', String(pause), 'ALL');
    const paused = performance.now();
    const { value, ms } = await timed(() => app.request('/dump', id));
    assert.equal(value.status, 503);
    assert.ok(ms < STORE_TIMEOUT + 700, `answered in ${Math.round(ms)} ms`);
    await sleep(pause + 100 - (performance.now() - paused));
    assert.equal((await app.request('/dump', id)).status, 200);
  });

  it('Redis down: 503 well within the timeout, or no session with onStoreError "anonymous", or your function', async () => {
    const id = (await app.request('/set?user=ann')).cookie!;
    await anonymous.request('/dump'); // every app has connected at least once
    await custom.request('/dump', id);
    await redis.server.stop();

    const read = await timed(() => app.request('/dump', id));
    assert.equal(read.value.status, 503);
    assert.ok(read.ms < 2000, `answered in ${Math.round(read.ms)} ms`);
    assert.doesNotMatch(read.value.body, /redis|ECONN/i, 'store details are not shown to the client');

    const write = await timed(() => app.request('/set?x=1'));
    assert.equal(write.value.status, 503);
    assert.ok(write.ms < 2000);

    const anon = await anonymous.request('/dump', id);
    assert.equal(anon.status, 200);
    assert.equal(anon.body, '{}');

    // The function is told, then the request carries on without a session (like 'anonymous').
    const own = await custom.request('/dump', id);
    assert.equal(own.status, 200);
    assert.equal(handled.length, 1);
    assert.ok(handled.at(-1) instanceof SessionStoreError);
    assert.match(handled.at(-1)!.message, /^koa-qsession: store get failed: redis: not connected to redis:\/\/127\.0\.0\.1:\d+/);
  });

  it('Redis back on the same port: sessions work again without restarting the app', async () => {
    await redis.server.restart();
    // node-redis retries at most a second apart; give it that long, then one request must work.
    await sleep(1200);
    const created = await app.request('/set?back=yes');
    assert.equal(created.status, 200);
    assert.deepEqual(JSON.parse((await app.request('/dump', created.cookie)).body), { back: 'yes' });
    await waitFor('the other apps to reconnect', async () => (await anonymous.request('/set?a=1')).cookie !== undefined, 5000);
  });

  it('Redis not reachable when the app starts: 503 at once, no crash', async () => {
    const nobody = await startApp({ type: 'redis', redis: `redis://127.0.0.1:${await freePort()}`, storeTimeout: STORE_TIMEOUT });
    try {
      const { value, ms } = await timed(() => nobody.request('/set?x=1'));
      assert.equal(value.status, 503);
      assert.ok(ms < 2000, `answered in ${Math.round(ms)} ms`);
      assert.equal((await nobody.request('/dump')).status, 200, 'a request that needs no store still works');
    } finally {
      await nobody.close();
    }
  });

  it('nothing escaped as an unhandled rejection or exception', async () => {
    await sleep(100);
    assert.deepEqual(escaped, []);
  });
});
