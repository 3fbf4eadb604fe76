import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { artifactPath, logIn, siteInBrowser } from './support/browser.js';

// The example site on a phone (375 CSS px wide, an iPhone SE / mini): a long user name wraps in the
// header instead of pushing the Log out button off the screen or making the page scroll sideways.
const site = siteInBrowser();
const PHONE = { width: 375, height: 667 };

/** Where `selector` is drawn, within the page's own coordinates. */
async function box(page: Page, selector: string) {
  const found = await page.locator(selector).boundingBox();
  assert.ok(found, `${selector} is drawn`);
  return found;
}

describe('the example site at 375 px wide', () => {
  for (const [what, name, file] of [
    ['a 27-character name with a space', 'Maximilian Featherstonhaugh', 'spaced'],
    ['a 27-character name without a break opportunity', 'maximilian.featherstonhaugh', 'unbroken'],
    ['a 60-character name without a break opportunity (wider than the screen)', 'm'.repeat(60), 'wider'],
  ] as const) {
    it(`keeps Log out on the screen with ${what}`, async () => {
      const context = await site.browser.newContext({ viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
      try {
        const page = await context.newPage();
        await logIn(page, site.url, name);
        assert.match(await page.locator('header').innerText(), new RegExp(`Signed in as\\s+${name.replace('.', '\\.')}`));
        await page.screenshot({ path: artifactPath(`phone-375-${file}-name.png`) });

        const button = await box(page, 'header button[type=submit]');
        assert.ok(button.x >= 0 && button.x + button.width <= PHONE.width, `Log out spans x ${button.x}..${button.x + button.width}, the screen 0..${PHONE.width}`);
        assert.ok(button.y >= 0 && button.y + button.height <= PHONE.height, `Log out is above the fold (y ${button.y}..${button.y + button.height})`);
        const user = await box(page, 'header .user');
        assert.ok(user.x >= 0 && user.x + user.width <= PHONE.width, `the name spans x ${user.x}..${user.x + user.width}`);
        // A string, evaluated in the page (the specs compile without the DOM's types).
        const [scrollWidth, clientWidth] = (await page.evaluate('[document.documentElement.scrollWidth, document.documentElement.clientWidth]')) as [number, number];
        assert.equal(scrollWidth, clientWidth, 'no sideways scrolling');

        // And the button works there, tapped (the page is at / before and after: wait for the text).
        await page.getByRole('button', { name: 'Log out' }).tap();
        await page.locator('main').getByText('Welcome anonymous!').waitFor();
      } finally {
        await context.close();
      }
    });
  }
});
