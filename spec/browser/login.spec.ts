import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Client } from '../support/http.js';
import { artifactPath, siteInBrowser, logIn, sessionCookie, withContext } from './support/browser.js';

// The site runs on a MemoryStore the test can look into.
const site = siteInBrowser();

describe('the example site in chromium: logging in and out', () => {
  it('logs in through the form with an HttpOnly, SameSite=Lax, Path=/ cookie that survives a reload', async () => {
    await withContext(site.browser, async (context) => {
    const page = await context.newPage();
    await logIn(page, site.url, 'ada');
    assert.match(await page.locator('main').innerText(), /Welcome back!/);
    assert.match(await page.locator('header').innerText(), /Signed in as ada/);

    const cookie = await sessionCookie(context);
    assert.ok(cookie, 'the browser holds a session cookie');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Lax');
    assert.equal(cookie.path, '/');
    assert.equal(await page.evaluate('document.cookie'), '', 'page scripts cannot read the session cookie');

    await page.reload();
    assert.match(await page.locator('main').innerText(), /Welcome back!/);
    await page.screenshot({ path: artifactPath('logged-in-home.png'), fullPage: true });

    await page.goto(`${site.url}/session`);
    assert.equal(await page.locator('.session-id').innerText(), `${cookie.value.slice(0, 8)}…`);
    assert.match(await page.locator('.session-data').innerText(), /"username": "ada"/);
    await page.screenshot({ path: artifactPath('logged-in-session.png'), fullPage: true });
    });
  });

  it('logs out with the button, and the old cookie no longer works when replayed', async () => {
    await withContext(site.browser, async (context) => {
    const page = await context.newPage();
    await logIn(page, site.url, 'grace');
    const old = (await sessionCookie(context))!;

    await Promise.all([page.waitForURL(`${site.url}/`), page.getByRole('button', { name: 'Log out' }).click()]);
    assert.match(await page.locator('main').innerText(), /Welcome anonymous!/);
    assert.equal(await sessionCookie(context), undefined, 'logout cleared the cookie');

    // Replayed outside the browser, as a thief holding a copy would.
    const replay = await new Client(site.url).get('/', { cookie: `session=${old.value}` });
    assert.match(replay.text, /Welcome anonymous!/);
    // Not cleared within a moment of the logout: a request carrying the old cookie may be the same
    // browser's, sent before the logout answered (docs/reliability.md); it is anonymous either way.
    assert.ok(!replay.setCookies.some((line) => /^session=[^;]/.test(line)), 'no session is handed out for the dead cookie');

    // And put back into a fresh browser context.
    await withContext(site.browser, async (other) => {
    await other.addCookies([old]);
    const page2 = await other.newPage();
    await page2.goto(`${site.url}/`);
    assert.match(await page2.locator('main').innerText(), /Welcome anonymous!/);
    });
    });
  });

  it('refuses a wrong password and stays anonymous', async () => {
    await withContext(site.browser, async (context) => {
    const page = await context.newPage();
    await page.goto(`${site.url}/login`);
    await page.getByLabel('Username').fill('ada');
    await page.getByLabel('Password').fill('guess');
    await Promise.all([page.waitForResponse(`${site.url}/login`), page.getByRole('button', { name: 'Log in' }).click()]);
    assert.match(await page.getByRole('alert').innerText(), /Wrong username or password/);
    assert.equal(await sessionCookie(context), undefined);
    });
  });
});
