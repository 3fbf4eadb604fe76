import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisStore } from 'koa-qsession';
import { Client } from '../support/http.js';
import { startStandalone, type Standalone } from '../support/redis.js';
import { startReliabilityApp, type ReliabilityApp } from '../support/reliability-app.js';

/**
 * Issue 17, rows 1 and 2, against a real Redis: a newer cookie is never clobbered by an older
 * request, and emptying a session never loses a key another request set meanwhile. Bounded runs on
 * loopback; the figures are quoted in docs/reliability.md.
 */
const RUNS = 100;

let redis: Standalone;
before(async () => {
  redis = await startStandalone();
});
after(async () => {
  await redis?.cleanup();
});

async function withApp(rolling: boolean, body: (app: ReliabilityApp) => Promise<void>): Promise<void> {
  const store = new RedisStore(redis.server.url);
  const app = await startReliabilityApp({ store, rolling });
  try {
    await body(app);
  } finally {
    await app.close();
    await store.close();
  }
}

/** One browser: a session, a slow request in flight, a login meanwhile, then the slow one ends. Logged in after? */
async function loginWhileSlow(app: ReliabilityApp, slowPath: string, run: number, slowStatus = 200): Promise<boolean> {
  const browser = new Client(app.url);
  await browser.get('/set?cart=apple');
  const gate = `run-${slowPath}-${run}`;
  const slow = browser.get(`${slowPath}&gate=${gate}`);
  await app.entered(gate);
  const login = await browser.get('/login?user=ann');
  assert.equal(login.status, 200);
  app.open(gate);
  assert.equal((await slow).status, slowStatus);
  const who = JSON.parse((await browser.get('/dump')).text) as { user?: string };
  return who.user === 'ann';
}

describe('a newer cookie is never clobbered by an older request (one process, real Redis)', () => {
  it(`login while a slower writer of the same browser is in flight: 0 of ${RUNS} logged out`, async (t) => {
    await withApp(false, async (app) => {
      let loggedOut = 0;
      // The slow write belonged to the session the login ended: refused (409, SessionConflictError 'gone'),
      // never stored, and no cookie of its own.
      for (let run = 0; run < RUNS; run++) if (!(await loginWhileSlow(app, '/slow-set?late=1', run, 409))) loggedOut++;
      t.diagnostic(`logins undone by a slower in-flight writer: ${loggedOut} of ${RUNS}`);
      assert.equal(loggedOut, 0);
    });
  });

  it(`rolling: login while a slower reader is in flight: 0 of ${RUNS} logged out (the retired id is never re-set)`, async (t) => {
    await withApp(true, async (app) => {
      let loggedOut = 0;
      for (let run = 0; run < RUNS; run++) if (!(await loginWhileSlow(app, '/slow-read?x=1', run))) loggedOut++;
      t.diagnostic(`logins undone by a slower in-flight rolling reader: ${loggedOut} of ${RUNS}`);
      assert.equal(loggedOut, 0);
    });
  });

  it(`login while a request of the same browser is on the wire with the old cookie (read after the login): 0 of ${RUNS} logged out`, async (t) => {
    await withApp(false, async (app) => {
      let loggedOut = 0;
      for (let run = 0; run < RUNS; run++) {
        const browser = new Client(app.url);
        await browser.get('/set?cart=apple');
        const oldCookie = browser.cookieHeader!;
        await browser.get('/login?user=ann');
        // Sent before the login answered, so it carries the old cookie; read after the old id was retired.
        await browser.get('/dump', { cookie: oldCookie });
        if ((JSON.parse((await browser.get('/dump')).text) as { user?: string }).user !== 'ann') loggedOut++;
      }
      t.diagnostic(`logins undone by a request that carried the retired cookie: ${loggedOut} of ${RUNS}`);
      assert.equal(loggedOut, 0);
    });
  });

  it('a logout is not undone by a slower request either: it sends no cookie, the session stays gone', async () => {
    await withApp(true, async (app) => {
      const browser = new Client(app.url);
      await browser.get('/login?user=ann');
      const slow = browser.get('/slow-set?late=1&gate=logout');
      await app.entered('logout');
      await browser.get('/logout');
      assert.equal(browser.jar.size, 0);
      app.open('logout');
      const late = await slow;
      assert.deepEqual(late.setCookies, []);
      assert.equal(browser.jar.size, 0);
    });
  });
});

describe('emptying a session is a compare-and-delete (real Redis)', () => {
  it(`one request deletes the last key while another sets a different key: 0 of ${RUNS} keys lost`, async (t) => {
    await withApp(false, async (app) => {
      let lost = 0;
      for (let run = 0; run < RUNS; run++) {
        const browser = new Client(app.url);
        await browser.get('/set?last=1');
        const gate = `empty-${run}`;
        const emptying = browser.get(`/slow-del?k=last&gate=${gate}`);
        await app.entered(gate);
        assert.equal((await browser.get(`/set?other=${run}`)).status, 200);
        app.open(gate);
        assert.equal((await emptying).status, 200);
        const data = JSON.parse((await browser.get('/dump')).text) as Record<string, string>;
        if (data.other !== String(run) || 'last' in data) lost++;
      }
      t.diagnostic(`disjoint keys lost to a last-key delete: ${lost} of ${RUNS}`);
      assert.equal(lost, 0);
    });
  });

  it('the other order (the emptying request saves first): figure logged; the late setter sends no cookie', async (t) => {
    await withApp(false, async (app) => {
      const runs = 20;
      let dropped = 0;
      for (let run = 0; run < runs; run++) {
        const browser = new Client(app.url);
        await browser.get('/set?last=1');
        const gate = `late-set-${run}`;
        const setter = browser.get(`/slow-set?other=${run}&gate=${gate}`);
        await app.entered(gate);
        await browser.get('/del?k=last'); // empties and deletes the session, clears the cookie
        app.open(gate);
        const late = await setter;
        assert.deepEqual(late.setCookies, [], 'the late setter does not own the session any more');
        if (late.status === 200) dropped++;
      }
      // Documented in docs/reliability.md: "emptied" and "logged out" look the same to the store.
      t.diagnostic(`setter saving after the session was emptied and deleted: ${dropped} of ${runs} changes dropped (answered 200, no cookie)`);
    });
  });
});
