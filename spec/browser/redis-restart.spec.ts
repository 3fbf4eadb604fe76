import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { freePort } from '../support/process.js';
import { startStandalone, type Standalone } from '../support/redis.js';
import { startExampleApp } from './support/app-process.js';
import { launchBrowser, logIn } from './support/browser.js';

let browser: Browser;
let redis: Standalone;

before(async () => {
  redis = await startStandalone(); // a throwaway redis-server on a free port, no persistence
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await redis?.cleanup();
});

describe('the example site in chromium on Redis', () => {
  it('keeps the user logged in across a restart of the app process', async () => {
    const port = await freePort();
    const env = { SESSION_TYPE: 'redis', REDIS_URL: redis.server.url };
    let app = await startExampleApp(port, env);
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await logIn(page, app.url, 'ada');
      await page.goto(`${app.url}/counter`);
      assert.match(await page.locator('.counter').innerText(), /Visits: 1/);
      assert.equal((await redis.server.cli('--scan', '--pattern', 'session:*')).trim().split('\n').length, 1, 'one session in Redis');

      await app.stop();
      app = await startExampleApp(port, env); // same port: the browser's cookie still applies

      await page.reload(); // the counter again, served by the new process
      assert.match(await page.locator('.counter').innerText(), /Visits: 2/);
      assert.match(await page.locator('header').innerText(), /Signed in as ada/);
    } finally {
      await context.close();
      await app.stop();
    }
  });
});
