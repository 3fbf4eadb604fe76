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

async function withApp<T>(options: QSessionOptions, body: (app: ReliabilityApp) => Promise<T>): Promise<T> {
  const store = new RedisStore(redis.server.url);
  const app = await startReliabilityApp({ store, storeTimeout: STORE_TIMEOUT, ...options });
  try {
    return await body(app);
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

/** One try of a scenario: the worst request's time in the app, the CPU the main thread used while it ran, and what to report. */
interface Try {
  readonly worst: number;
  readonly cpuMs: number;
  readonly report: string;
}

/** The app's slowest request of the try, and the main thread's CPU while it ran. */
function slowest(app: ReliabilityApp): { worst: number; cpuMs: number } {
  const worst = Math.max(...app.timings);
  return { worst, cpuMs: app.cpu[app.timings.indexOf(worst)] ?? Infinity };
}

/** Tries a scenario may take when the process was not running (see `withinBound`). */
const TRIES = 3;

/**
 * Asserts the bound on the worst request of `scenario`. The machine is shared (2 cores, other
 * tenants): the OS can hold this whole process off the CPU for tens of ms at any moment, and one
 * request then takes that much longer, whatever the library does. Such a try is told apart by the
 * CPU this process's main thread used while the worst request ran: below SLACK, the process cannot
 * have spent the excess working, so it was waiting; then the scenario is tried again, up to TRIES times. What the library itself adds
 * shows in every try (a timeout per call instead of per request, a second wait), and work it does
 * (a compile on the first load, a loop) shows as CPU: either fails the spec at once.
 */
async function withinBound(t: { diagnostic(message: string): void }, scenario: () => Promise<Try>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const { worst, cpuMs, report } = await scenario();
    t.diagnostic(`try ${attempt}: ${report}; the main thread used ${cpuMs.toFixed(0)} ms of CPU while the worst request ran`);
    if (worst <= STORE_TIMEOUT + SLACK) return;
    const machineStall = cpuMs < SLACK;
    if (!machineStall || attempt === TRIES) {
      assert.fail(`worst request ${worst.toFixed(0)} ms (storeTimeout ${STORE_TIMEOUT} + ${SLACK}); try ${attempt} of ${TRIES}, ${cpuMs.toFixed(0)} ms of CPU used by the main thread`);
    }
  }
}

describe('storeTimeout is one budget per request (real Redis)', () => {
  it(`Redis hung, 'anonymous': the worst request takes at most storeTimeout + ${SLACK} ms`, async (t) => {
    await withinBound(t, () => withApp({ onStoreError: 'anonymous' }, async (app) => {
      const browsers = Array.from({ length: 10 }, () => new Client(app.url));
      for (const browser of browsers) await browser.get('/set?a=1');
      await redis.server.cli('CLIENT', 'PAUSE', '2000', 'ALL');
      try {
        app.timings.length = 0;
        app.cpu.length = 0;
        const times = await Promise.all(browsers.map((browser, i) => timed(browser, `/set?n=${i}`)));
        const { worst, cpuMs } = slowest(app);
        return { worst, cpuMs, report: `worst of ${times.length} requests under a hung Redis: ${worst.toFixed(0)} ms in the app, ${Math.max(...times.map((x) => x.ms)).toFixed(0)} ms at the client (storeTimeout ${STORE_TIMEOUT} ms)` };
      } finally {
        await redis.server.cli('CLIENT', 'UNPAUSE');
      }
    }));
  });

  it(`Redis hung, one browser's page of parallel requests: the worst takes at most storeTimeout + ${SLACK} ms`, async (t) => {
    // Requests of one session take turns (turnWait): waiting behind one that waits on the store is
    // waiting on the store, and must not add to the request's own storeTimeout, nor pile up in a line.
    await withinBound(t, () => withApp({ onStoreError: 'anonymous' }, async (app) => {
      const browser = new Client(app.url);
      await browser.get('/set?a=1');
      await redis.server.cli('CLIENT', 'PAUSE', '3000', 'ALL');
      try {
        app.timings.length = 0;
        app.cpu.length = 0;
        const times = await Promise.all(Array.from({ length: 8 }, (_, i) => timed(browser, `/set?n=${i}`)));
        const { worst, cpuMs } = slowest(app);
        return { worst, cpuMs, report: `worst of ${times.length} parallel requests of one session under a hung Redis: ${worst.toFixed(0)} ms in the app, ${Math.max(...times.map((x) => x.ms)).toFixed(0)} ms at the client (storeTimeout ${STORE_TIMEOUT} ms); in the app: ${app.timings.map((x) => x.toFixed(0)).join(' ')}` };
      } finally {
        await redis.server.cli('CLIENT', 'UNPAUSE');
      }
    }));
  });

  it(`Redis slow on every command: read + write together stay within storeTimeout + ${SLACK} ms`, async (t) => {
    await withinBound(t, () => withApp({}, async (app) => {
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
        app.cpu.length = 0;
        for (const [i, browser] of browsers.entries()) {
          // Sequential, each a read then a write: the write of a slow read gets only what is left.
          times.push(await timed(browser, `/set?n=${i}`));
        }
        const { worst, cpuMs } = slowest(app);
        return { worst, cpuMs, report: `worst of ${times.length} read+write requests on a slow Redis: ${worst.toFixed(0)} ms in the app, ${Math.max(...times.map((x) => x.ms)).toFixed(0)} ms at the client; statuses ${times.map((x) => x.status).join(' ')}` };
      } finally {
        busy = false;
        await keepBusy;
        sleeper.destroy();
      }
    }));
  });
});
