/**
 * Pinning in a mixed deployment (issue 14, point 3), against the Quart-Session 3.0 style app in both
 * of Quart's modes. The decision (docs/python-interop-pinning.md): the Koa app compares a stored
 * `_addr` only when both apps pin by the same rule — `fromQuartConfig` sets `quartPinning` and
 * `reverseProxy` from SESSION_REVERSE_PROXY, and any other pairing is refused at start-up — and only
 * when the pin is one IP address. Quart's raw X-Forwarded-For chain is neither compared nor replaced.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fromQuartConfig, qsession, SessionOptionsError } from 'koa-qsession';
import { startStandalone, type Standalone } from '../support/redis.js';
import { startKoa, type KoaSide } from './support/koa-app.js';
import { ensurePythonPackages, SharedBrowser, startPythonApp, type PythonApp } from './support/python-apps.js';

interface Mixed {
  redis: Standalone;
  quart: PythonApp;
  koa: KoaSide;
  cli(...args: string[]): Promise<string>;
}

async function mixed(proxy: boolean): Promise<Mixed> {
  ensurePythonPackages();
  const redis = await startStandalone();
  const quart = await startPythonApp('quart_session_app.py', ['--redis', redis.server.url, '--protection', ...(proxy ? ['--proxy'] : [])]);
  const koa = await startKoa({
    SESSION_TYPE: 'redis',
    SESSION_URI: redis.server.url,
    SESSION_PROTECTION: true,
    SESSION_REVERSE_PROXY: proxy,
    PERMANENT_SESSION_LIFETIME: 3600,
  });
  return { redis, quart, koa, cli: async (...args) => (await redis.server.cli(...args)).trimEnd() };
}

async function teardown(setup: Mixed | undefined): Promise<void> {
  await setup?.koa.close();
  await setup?.quart.stop();
  await setup?.redis.cleanup();
}

const xff = (value: string) => ({ headers: { 'X-Forwarded-For': value } });

describe("pinning with Quart in socket mode (SESSION_REVERSE_PROXY off): both pin the socket address", () => {
  let m: Mixed;
  before(async () => {
    m = await mixed(false);
  });
  after(() => teardown(m));

  it("fromQuartConfig pins by the socket, as Quart does", () => {
    const options = fromQuartConfig({ SESSION_PROTECTION: true, SESSION_REVERSE_PROXY: false });
    assert.deepEqual([options.hijackProtection, options.reverseProxy, options.quartPinning], [true, false, 'socket']);
  });

  it("a Quart session is honoured from the address Quart pinned", async () => {
    const browser = new SharedBrowser();
    await browser.get(`${m.quart.url}/login`);
    assert.match(await m.cli('GET', `session:${browser.cookie!}`), /"_addr":"127\.0\.0\.1"/);
    const reply = await browser.get(`${m.koa.url}/whoami`);
    assert.equal(reply.status, 200);
    assert.deepEqual(m.koa.pinMismatches, []);
  });

  it('from another address, the Koa app deletes the session as the Quart app does', async () => {
    const koaSide = new SharedBrowser();
    await koaSide.get(`${m.quart.url}/login`);
    const id = koaSide.cookie!;
    assert.equal((await koaSide.get(`${m.koa.url}/whoami`, { localAddress: '127.0.0.2' })).status, 401);
    assert.equal(m.koa.pinMismatches.at(-1)?.expected, '127.0.0.1');
    assert.equal(m.koa.pinMismatches.at(-1)?.actual, '127.0.0.2');
    assert.equal(await m.cli('EXISTS', `session:${id}`), '0');

    const quartSide = new SharedBrowser();
    await quartSide.get(`${m.quart.url}/login`);
    assert.equal((await quartSide.get(`${m.quart.url}/user`, { localAddress: '127.0.0.2' })).status, 401);
    assert.equal(await m.cli('EXISTS', `session:${quartSide.cookie!}`), '0', 'the Quart app deletes it too');
  });

  it("a Koa session is pinned in a form the Quart app compares", async () => {
    const browser = new SharedBrowser();
    await browser.get(`${m.koa.url}/visit`);
    const id = browser.cookie!;
    assert.match(await m.cli('GET', `session:${id}`), /"_addr":"127\.0\.0\.1"/);
    await browser.get(`${m.quart.url}/user`);
    assert.equal(await m.cli('EXISTS', `session:${id}`), '1', 'same address: kept by Quart');
    await browser.get(`${m.quart.url}/user`, { localAddress: '127.0.0.3' });
    assert.equal(await m.cli('EXISTS', `session:${id}`), '0', 'another address: deleted by Quart');
  });

  it('pinning by X-Forwarded-For here while Quart pins by the socket is refused at start-up', () => {
    const config = { SESSION_TYPE: 'redis', SESSION_URI: m.redis.server.url, SESSION_PROTECTION: true };
    assert.throws(() => qsession({ ...fromQuartConfig(config), reverseProxy: true }), (e: unknown) => e instanceof SessionOptionsError && e.option === 'quartPinning');
  });
});

describe('pinning with Quart in proxy mode (SESSION_REVERSE_PROXY on): both read X-Forwarded-For', () => {
  let m: Mixed;
  before(async () => {
    m = await mixed(true);
  });
  after(() => teardown(m));

  it('one proxy: Quart pins the one address, the Koa app compares it', async () => {
    const browser = new SharedBrowser();
    await browser.get(`${m.quart.url}/login`, xff('203.0.113.7'));
    const id = browser.cookie!;
    assert.match(await m.cli('GET', `session:${id}`), /"_addr":"203\.0\.113\.7"/);
    assert.equal((await browser.get(`${m.koa.url}/whoami`, xff('203.0.113.7'))).status, 200);
    assert.equal((await browser.get(`${m.koa.url}/whoami`, xff('198.51.100.9'))).status, 401, 'another client: refused');
    assert.equal(m.koa.pinMismatches.at(-1)?.expected, '203.0.113.7');
    assert.equal(await m.cli('EXISTS', `session:${id}`), '0', 'and deleted, as Quart does');
  });

  it("a chain: Quart pins the raw header text, which the Koa app neither compares nor replaces", async () => {
    const browser = new SharedBrowser();
    const chain = '10.9.8.7, 203.0.113.7';
    await browser.get(`${m.quart.url}/login`, xff(chain));
    const id = browser.cookie!;
    assert.match(await m.cli('GET', `session:${id}`), /"_addr":"10\.9\.8\.7, 203\.0\.113\.7"/);
    const mismatches = m.koa.pinMismatches.length;

    assert.equal((await browser.get(`${m.koa.url}/whoami`, xff(chain))).status, 200, 'still logged in on Koa');
    assert.equal((await browser.get(`${m.koa.url}/visit`, xff(chain))).status, 200);
    assert.match(await m.cli('GET', `session:${id}`), /"_addr":"10\.9\.8\.7, 203\.0\.113\.7".*"koa_visits":1/, "Quart's pin is kept as it was");
    assert.equal((await browser.get(`${m.quart.url}/user`, xff(chain))).status, 200, 'still logged in on Quart');
    // Not comparable: the Koa app cannot check it (the Quart app still does, by its own rule).
    assert.equal((await browser.get(`${m.koa.url}/whoami`, xff('198.51.100.9'))).status, 200);
    assert.equal(m.koa.pinMismatches.length, mismatches);
    assert.equal((await browser.get(`${m.quart.url}/user`, xff('198.51.100.9'))).status, 401, 'Quart refuses another header text');
    assert.equal(await m.cli('EXISTS', `session:${id}`), '0');
  });

  it('a Koa session carries the hop-counted address, which Quart compares with a one-entry header', async () => {
    const browser = new SharedBrowser();
    await browser.get(`${m.koa.url}/visit`, xff('10.0.0.66, 203.0.113.8'));
    const id = browser.cookie!;
    assert.match(await m.cli('GET', `session:${id}`), /"_addr":"203\.0\.113\.8"/, 'the rightmost entry (one trusted proxy)');
    await browser.get(`${m.quart.url}/user`, xff('203.0.113.8'));
    assert.equal(await m.cli('EXISTS', `session:${id}`), '1');
  });
});
