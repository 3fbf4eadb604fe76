import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page, Response } from 'playwright-core';
import { siteInBrowser, logIn, sessionCookie, withContext } from './support/browser.js';

// The site runs on a MemoryStore the test can look into.
const site = siteInBrowser();

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
    await withContext(site.browser, async (context) => {
    const page = await context.newPage();
    for (const path of ['/', '/login', '/session', '/logout', '/no-such-page']) await page.goto(site.url + path);
    assert.equal(site.store.size, 0, 'nothing stored');
    assert.deepEqual(await context.cookies(), [], 'no cookie set');
    });
  });

  it('static files carry no Set-Cookie, anonymous or logged in, and the page shows them', async () => {
    await withContext(site.browser, async (context) => {
    const page = await context.newPage();
    await assertStaticWithoutCookie(await load(page, `${site.url}/`));
    await logIn(page, site.url, 'ada');
    await assertStaticWithoutCookie(await load(page, `${site.url}/counter`));
    await context.clearCookies(); // a browser without the cookie: would a static file hand one out?
    await assertStaticWithoutCookie(await load(page, `${site.url}/login`));

    // Loaded and applied, not merely requested.
    assert.ok(await page.evaluate('document.querySelector("header img").naturalWidth') as number > 0, 'the logo rendered');
    assert.equal(await page.evaluate('getComputedStyle(document.querySelector("header")).display'), 'flex', 'style.css applied');
    });
  });

  it('two users in two browser contexts never see each other\'s data', async () => {
    const alice = await site.browser.newContext();
    const bob = await site.browser.newContext();
    try {
      const [pageA, pageB] = await Promise.all([alice.newPage(), bob.newPage()]);
      await logIn(pageA, site.url, 'alice');
      await logIn(pageB, site.url, 'bob');
      for (let i = 0; i < 3; i++) await pageA.goto(`${site.url}/counter`);
      await pageB.goto(`${site.url}/counter`);
      assert.match(await pageA.locator('.counter').innerText(), /Visits: 3/);
      assert.match(await pageB.locator('.counter').innerText(), /Visits: 1/);

      await Promise.all([pageA.goto(`${site.url}/session`), pageB.goto(`${site.url}/session`)]);
      const [dataA, dataB] = await Promise.all([pageA.locator('.session-data').innerText(), pageB.locator('.session-data').innerText()]);
      assert.deepEqual(JSON.parse(dataA), { authenticated: true, username: 'alice', visits: 3 });
      assert.deepEqual(JSON.parse(dataB), { authenticated: true, username: 'bob', visits: 1 });
      assert.notEqual((await sessionCookie(alice))!.value, (await sessionCookie(bob))!.value);

      // Bob logging out leaves Alice logged in.
      await Promise.all([pageB.waitForURL(`${site.url}/`), pageB.getByRole('button', { name: 'Log out' }).click()]);
      await pageA.goto(`${site.url}/`);
      assert.match(await pageA.locator('header').innerText(), /Signed in as alice/);
    } finally {
      await Promise.all([alice.close(), bob.close()]);
    }
  });
});
