import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'redis';
import { RedisStore, type QSessionOptions } from 'koa-qsession';
import { Client } from '../support/http.js';
import { startStandalone, type Standalone } from '../support/redis.js';
import { startReliabilityApp, type ReliabilityApp } from '../support/reliability-app.js';

/**
 * Issue 17, last row: `storeTimeout` is a per-request budget. A request that reads, then writes,
 * waits on the store `storeTimeout` in all, not once per call. Real Redis: paused (CLIENT PAUSE),
 * or made slow by another connection that keeps it busy (DEBUG SLEEP, back to back).
 */
const STORE_TIMEOUT = 300;
/** What the request may take besides its store budget: loopback HTTP and our own work. */
const SLACK = 50;

let redis: Standalone;
before(async () => {
  redis = await startStandalone(['--enable-debug-command', 'yes']);
});
after(async () => {
  await redis?.cleanup();
});

async function withApp(options: QSessionOptions, body: (app: ReliabilityApp) => Promise<void>): Promise<void> {
  const store = new RedisStore(redis.server.url);
  const app = await startReliabilityApp({ store, storeTimeout: STORE_TIMEOUT, ...options });
  try {
    await body(app);
  } finally {
    await app.close();
    await store.close();
  }
}

async function timed(browser: Client, path: string): Promise<{ ms: number; status: number }> {
  const started = performance.now();
  const reply = await browser.get(path);
  return { ms: performance.now() - started, status: reply.status };
}

describe('storeTimeout is one budget per request (real Redis)', () => {
  it(`Redis hung, 'anonymous': the worst request takes at most storeTimeout + ${SLACK} ms`, async (t) => {
    await withApp({ onStoreError: 'anonymous' }, async (app) => {
      const browsers = Array.from({ length: 10 }, () => new Client(app.url));
      for (const browser of browsers) await browser.get('/set?a=1');
      await redis.server.cli('CLIENT', 'PAUSE', '2000', 'ALL');
      app.timings.length = 0;
      const times = await Promise.all(browsers.map((browser, i) => timed(browser, `/set?n=${i}`)));
      const worst = Math.max(...app.timings);
      t.diagnostic(`worst of ${times.length} requests under a hung Redis: ${worst.toFixed(0)} ms in the app, ${Math.max(...times.map((x) => x.ms)).toFixed(0)} ms at the client (storeTimeout ${STORE_TIMEOUT} ms)`);
      assert.ok(worst <= STORE_TIMEOUT + SLACK, `worst request ${worst.toFixed(0)} ms`);
      await redis.server.cli('CLIENT', 'UNPAUSE');
    });
  });

  it(`Redis slow on every command: read + write together stay within storeTimeout + ${SLACK} ms`, async (t) => {
    await withApp({}, async (app) => {
      const browsers = Array.from({ length: 8 }, () => new Client(app.url));
      for (const browser of browsers) await browser.get('/set?a=1');
      // Another connection keeps Redis asleep 180 ms at a time: each of our commands waits up to that.
      const sleeper = createClient({ url: redis.server.url });
      sleeper.on('error', () => undefined);
      await sleeper.connect();
      let busy = true;
      const keepBusy = (async () => {
        while (busy) await sleeper.sendCommand(['DEBUG', 'SLEEP', '0.18']);
      })();
      try {
        const times: Array<{ ms: number; status: number }> = [];
        app.timings.length = 0;
        for (const [i, browser] of browsers.entries()) {
          // Sequential, each a read then a write: the write of a slow read gets only what is left.
          times.push(await timed(browser, `/set?n=${i}`));
        }
        const worst = Math.max(...app.timings);
        t.diagnostic(`worst of ${times.length} read+write requests on a slow Redis: ${worst.toFixed(0)} ms in the app, ${Math.max(...times.map((x) => x.ms)).toFixed(0)} ms at the client; statuses ${times.map((x) => x.status).join(' ')}`);
        assert.ok(worst <= STORE_TIMEOUT + SLACK, `worst request ${worst.toFixed(0)} ms`);
      } finally {
        busy = false;
        await keepBusy;
        sleeper.destroy();
      }
    });
  });
});
