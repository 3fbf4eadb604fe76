import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisStore, type SessionStoreError } from 'koa-qsession';
import { Client } from '../support/http.js';
import { startStandalone, waitFor, type Standalone } from '../support/redis.js';
import { startReliabilityApp, type ReliabilityApp } from '../support/reliability-app.js';

/**
 * Issue 17, row 3: a store that cannot be reached never fakes success. With `onStoreError:
 * 'anonymous'` a request carries on without a session, but a logout, a login or a write that did
 * not reach the store is not answered as done, and no cookie is cleared or replaced. Real Redis,
 * really stopped, paused or contended.
 */
// Generous: the set-up (logins) must not time out on a loaded machine; the outage specs time nothing.
const STORE_TIMEOUT = 1000;

let redis: Standalone;
before(async () => {
  redis = await startStandalone();
});
after(async () => {
  await redis?.cleanup();
});

async function withApp(body: (app: ReliabilityApp, errors: SessionStoreError[]) => Promise<void>): Promise<void> {
  const store = new RedisStore(redis.server.url);
  const app = await startReliabilityApp({ store, onStoreError: 'anonymous', storeTimeout: STORE_TIMEOUT });
  const errors: SessionStoreError[] = [];
  app.sessions.on('store-error', ({ error }) => errors.push(error));
  try {
    await body(app, errors);
  } finally {
    await app.close();
    await store.close();
  }
}

const loggedIn = async (browser: Client) => (JSON.parse((await browser.get('/dump')).text) as { user?: string }).user !== undefined;

describe("onStoreError 'anonymous' during an outage (real Redis)", () => {
  it('logout while Redis is down: 0 fake logouts (503, cookie kept, session still valid when Redis is back)', async (t) => {
    await withApp(async (app) => {
      const browsers = Array.from({ length: 20 }, () => new Client(app.url));
      for (const [i, browser] of browsers.entries()) assert.equal((await browser.get(`/login?user=u${i}`)).status, 200);
      // Persist what is stored, so the restarted server has the sessions back.
      await redis.server.cli('SAVE');
      await redis.server.stop();
      let acknowledged = 0;
      let cookiesCleared = 0;
      for (const browser of browsers) {
        const cookieBefore = browser.jar.get('session');
        const reply = await browser.get('/logout');
        if (reply.status < 400) acknowledged++;
        if (browser.jar.get('session') !== cookieBefore) cookiesCleared++;
        assert.equal(reply.status, 503);
      }
      await redis.server.restart();
      await waitFor('the store to reconnect', () => loggedIn(browsers[0]!), 10_000);
      let stillValid = 0;
      for (const browser of browsers) if (await loggedIn(browser)) stillValid++;
      t.diagnostic(`logouts during the outage: ${acknowledged} acknowledged, ${cookiesCleared} cookies cleared; sessions valid after: ${stillValid} of ${browsers.length}`);
      assert.equal(acknowledged, 0, 'no logout was answered as done');
      assert.equal(cookiesCleared, 0, 'no cookie was cleared');
      assert.equal(stillValid, browsers.length, 'the store never saw the logouts, and the user is told so');
    });
  });

  it('Redis hung: a client with a real cookie is never handed a new empty session; the handler can tell', async (t) => {
    await withApp(async (app) => {
      const browsers = Array.from({ length: 30 }, () => new Client(app.url));
      for (const [i, browser] of browsers.entries()) assert.equal((await browser.get(`/login?user=u${i}`)).status, 200);
      const cookies = browsers.map((browser) => browser.jar.get('session'));
      await redis.server.cli('CLIENT', 'PAUSE', '2500', 'ALL');
      const started = Date.now();
      const replies = await Promise.all(browsers.flatMap((browser, i) => [browser.get(`/set?n=${i}`), browser.get('/dump')]));
      t.diagnostic(`30 writes + 30 reads under a paused Redis took ${Date.now() - started} ms`);
      const replaced = browsers.filter((browser, i) => browser.jar.get('session') !== cookies[i]).length;
      assert.equal(replaced, 0, 'no cookie replaced by a stand-in session');
      assert.ok(replies.every((reply) => reply.setCookies.length === 0), 'no Set-Cookie at all');
      const reads = replies.filter((_, i) => i % 2 === 1);
      const writes = replies.filter((_, i) => i % 2 === 0);
      assert.ok(reads.every((reply) => reply.status === 200 && reply.headers.get('x-session-unavailable') === '1'), 'reads go on, flagged');
      assert.ok(writes.every((reply) => reply.status === 503), 'writes that could not be saved are not acknowledged');
      await waitFor('Redis to answer again', () => loggedIn(browsers[0]!), 5000);
      for (const browser of browsers) assert.equal(await loggedIn(browser), true);
    });
  });

  it('a merge that gives up is never silent: every change answered 200 is stored', async (t) => {
    await withApp(async (app, errors) => {
      const browser = new Client(app.url);
      await browser.get('/set?base=1');
      const writers = 60;
      // Every writer loads the session, then all save at once: the most contention one session can see.
      const pending = Array.from({ length: writers }, (_, i) => browser.get(`/slow-set?gate=burst${i}&k${i}=${i}`));
      await Promise.all(Array.from({ length: writers }, (_, i) => app.entered(`burst${i}`)));
      for (let i = 0; i < writers; i++) app.open(`burst${i}`);
      const replies = await Promise.all(pending);
      const stored = JSON.parse((await browser.get('/dump')).text) as Record<string, string>;
      const acknowledged = replies.map((reply, i) => (reply.status === 200 ? i : -1)).filter((i) => i >= 0);
      const silentlyDropped = acknowledged.filter((i) => stored[`k${i}`] !== String(i)).length;
      const refused = replies.filter((reply) => reply.status === 503).length;
      t.diagnostic(`${writers} concurrent writers: ${acknowledged.length} acknowledged, ${refused} refused (503, store-error events: ${errors.length}), ${silentlyDropped} silently dropped`);
      assert.equal(silentlyDropped, 0);
      assert.equal(acknowledged.length + refused, writers);
      assert.ok(errors.length >= refused, 'every refusal is reported as a store-error event');
    });
  });
});
