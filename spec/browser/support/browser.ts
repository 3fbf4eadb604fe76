import { existsSync, mkdirSync } from 'node:fs';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { MemoryStore } from 'koa-qsession';
import { createApp } from '../../../example-app/app.js';
import { serve, type Served } from '../../support/http.js';

/** Debian's chromium: playwright cannot download its own browser here (scripts/install-system-deps.sh installs it). */
export const CHROMIUM = '/usr/bin/chromium';

/** Keeps headless chromium quiet and off the network: nothing but the app under test is contacted. */
const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-quic',
];

/**
 * Launches chromium. Playwright gives every launch a fresh temporary --user-data-dir of its own and
 * removes it on close, so no profile state leaks between runs. A missing chromium is a failure, not
 * a skip: the browser suite is part of `npm test`.
 */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run \`bash scripts/install-system-deps.sh\` as root (apt-get install chromium)`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 60_000 });
}

/** Where screenshots go: spec/artifacts/ (git-ignored), kept after the run for people to look at. */
export function artifactPath(name: string): string {
  const dir = fileURLToPath(new URL('../../artifacts/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  return dir + name;
}

/** Logs in through the site's form, as a person would, and waits for the home page. */
export async function logIn(page: Page, base: string, username: string, password = 'secret'): Promise<void> {
  await page.goto(`${base}/login`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await Promise.all([page.waitForURL(`${base}/`), page.getByRole('button', { name: 'Log in' }).click()]);
}

/** The session cookie as the browser holds it, or undefined. */
export async function sessionCookie(context: BrowserContext) {
  return (await context.cookies()).find((c) => c.name === 'session');
}

/** The example site on a MemoryStore the test can look into, and one chromium, for a whole spec file. */
export interface SiteUnderTest {
  readonly store: MemoryStore;
  readonly url: string;
  readonly browser: Browser;
}

/** Starts the site and chromium before the file's tests and stops both after them. */
export function siteInBrowser(): SiteUnderTest {
  const store = new MemoryStore();
  let served: Served | undefined;
  let browser: Browser | undefined;
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
  return {
    store,
    get url() {
      return served!.url;
    },
    get browser() {
      return browser!;
    },
  };
}

/** Runs `use` with a fresh browser context (its own cookies) and closes the context whatever happens. */
export async function withContext(browser: Browser, use: (context: BrowserContext) => Promise<void>): Promise<void> {
  const context = await browser.newContext();
  try {
    await use(context);
  } finally {
    await context.close();
  }
}
