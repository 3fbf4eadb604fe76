import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page, Response } from 'playwright-core';
import { MemoryStore } from 'koa-qsession';
import { createApp } from '../../example-app/app.js';
import { serve, type Served } from '../support/http.js';
import { launchBrowser, logIn, sessionCookie } from './support/browser.js';

let browser: Browser;
let served: Served;
// A store the test can look into: the example app takes any SessionStore.
const store = new MemoryStore();

before(async () => {
  const { app } = createApp({ store });
  app.silent = true;
  served = await serve(app);
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await served?.close();
});

/** Loads a page and hands back every response of that load (the page, its CSS, its image). */
async function load(page: Page, url: string): Promise<Response[]> {
  const responses: Response[] = [];
  const listener = (response: Response) => void responses.push(response);
  page.on('response', listener);
  await page.goto(url, { waitUntil: 'load' });
  page.off('response', listener);
  return responses;
}

async function assertStaticWithoutCookie(responses: Response[]): Promise<void> {
  for (const file of ['/style.css', '/logo.svg']) {
    const response = responses.find((r) => new URL(r.url()).pathname === file);
    assert.ok(response, `the page load fetched ${file}`);
    assert.equal(response.status(), 200, file);
    assert.equal(await response.headerValue('set-cookie'), null, `${file} carries no Set-Cookie`);
  }
}

describe('the example site in chromium: what a session costs', () => {
  it('browsing anonymously creates no session in the store and no cookie (explicit mode)', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      for (const path of ['/', '/login', '/session', '/logout', '/no-such-page']) await page.goto(served.url + path);
      assert.equal(store.size, 0, 'nothing stored');
      assert.deepEqual(await context.cookies(), [], 'no cookie set');
    } finally {
      await context.close();
    }
  });

  it('static files carry no Set-Cookie, anonymous or logged in, and the page shows them', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await assertStaticWithoutCookie(await load(page, `${served.url}/`));
      await logIn(page, served.url, 'ada');
      await assertStaticWithoutCookie(await load(page, `${served.url}/counter`));
      await context.clearCookies(); // a browser without the cookie: would a static file hand one out?
      await assertStaticWithoutCookie(await load(page, `${served.url}/login`));

      // Loaded and applied, not merely requested.
      assert.ok(await page.evaluate('document.querySelector("header img").naturalWidth') as number > 0, 'the logo rendered');
      assert.equal(await page.evaluate('getComputedStyle(document.querySelector("header")).display'), 'flex', 'style.css applied');
    } finally {
      await context.close();
    }
  });

  it('two users in two browser contexts never see each other\'s data', async () => {
    const alice = await browser.newContext();
    const bob = await browser.newContext();
    try {
      const [pageA, pageB] = await Promise.all([alice.newPage(), bob.newPage()]);
      await logIn(pageA, served.url, 'alice');
      await logIn(pageB, served.url, 'bob');
      for (let i = 0; i < 3; i++) await pageA.goto(`${served.url}/counter`);
      await pageB.goto(`${served.url}/counter`);
      assert.match(await pageA.locator('.counter').innerText(), /Visits: 3/);
      assert.match(await pageB.locator('.counter').innerText(), /Visits: 1/);

      await Promise.all([pageA.goto(`${served.url}/session`), pageB.goto(`${served.url}/session`)]);
      const [dataA, dataB] = await Promise.all([pageA.locator('.session-data').innerText(), pageB.locator('.session-data').innerText()]);
      assert.deepEqual(JSON.parse(dataA), { authenticated: true, username: 'alice', visits: 3 });
      assert.deepEqual(JSON.parse(dataB), { authenticated: true, username: 'bob', visits: 1 });
      assert.notEqual((await sessionCookie(alice))!.value, (await sessionCookie(bob))!.value);

      // Bob logging out leaves Alice logged in.
      await Promise.all([pageB.waitForURL(`${served.url}/`), pageB.getByRole('button', { name: 'Log out' }).click()]);
      await pageA.goto(`${served.url}/`);
      assert.match(await pageA.locator('header').innerText(), /Signed in as alice/);
    } finally {
      await Promise.all([alice.close(), bob.close()]);
    }
  });
});
