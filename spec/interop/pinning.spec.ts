/**
 * Pinning in a mixed deployment (issue 14 point 3, issue 23 point 5), against the Quart-Session 3.0
 * style app in both of Quart's modes. The decision (docs/python-interop-pinning.md): both apps pin by
 * the same source — `fromQuartConfig` sets `quartPinning` and `reverseProxy` from
 * SESSION_REVERSE_PROXY, and any other pairing is refused at start-up — and a stored pin is never
 * ignored. In proxy mode the Koa app compares Quart's raw X-Forwarded-For text as Quart does (the
 * whole text) and pins its own sessions with that text, so each app keeps the other's users logged in
 * and refuses the same stolen cookies, with one proxy or two.
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
  /** The Koa app behind two trusted proxies (`proxyHops: 2`), on the same Redis and Quart app. */
  let twoHops: KoaSide;
  before(async () => {
    m = await mixed(true);
    twoHops = await startKoa({ SESSION_TYPE: 'redis', SESSION_URI: m.redis.server.url, SESSION_PROTECTION: true, SESSION_REVERSE_PROXY: true }, { proxyHops: 2 });
  });
  after(async () => {
    await twoHops?.close();
    await teardown(m);
  });

  // The chain two proxies hand on: the client's address, then the first proxy's.
  const CHAIN = '10.0.0.5, 203.0.113.7';
  const OTHER_CLIENT = '10.0.0.9, 203.0.113.7';

  it('one proxy, Quart-created: Quart pins the one address, the Koa app compares it', async () => {
    const browser = new SharedBrowser();
    await browser.get(`${m.quart.url}/login`, xff('203.0.113.7'));
    const id = browser.cookie!;
    assert.match(await m.cli('GET', `session:${id}`), /"_addr":"203\.0\.113\.7"/);
    assert.equal((await browser.get(`${m.koa.url}/whoami`, xff('203.0.113.7'))).status, 200);
    assert.equal((await browser.get(`${m.koa.url}/whoami`, xff('198.51.100.9'))).status, 401, 'another client: refused');
    assert.equal(m.koa.pinMismatches.at(-1)?.expected, '203.0.113.7');
    assert.equal(await m.cli('EXISTS', `session:${id}`), '0', 'and deleted, as Quart does');
  });

  it('one proxy, Koa-created: pinned with the header text, which Quart accepts from that client only', async () => {
    const browser = new SharedBrowser();
    assert.equal((await browser.get(`${m.koa.url}/login`, xff('203.0.113.8'))).status, 200);
    const id = browser.cookie!;
    assert.match(await m.cli('GET', `session:${id}`), /"_addr":"203\.0\.113\.8"/);
    assert.equal((await browser.get(`${m.quart.url}/user`, xff('203.0.113.8'))).status, 200, 'logged in on Quart');
    assert.equal((await browser.get(`${m.koa.url}/whoami`, xff('203.0.113.8'))).status, 200, 'and on Koa');
    assert.equal((await browser.get(`${m.quart.url}/user`, xff('198.51.100.9'))).status, 401, 'another client: refused by Quart');
    assert.equal(await m.cli('EXISTS', `session:${id}`), '0');
  });

  it('one proxy and a client-supplied entry, Koa-created: Quart compares the whole text and keeps it', async () => {
    const browser = new SharedBrowser();
    const header = '10.0.0.66, 203.0.113.8';
    assert.equal((await browser.get(`${m.koa.url}/login`, xff(header))).status, 200);
    const id = browser.cookie!;
    assert.match(await m.cli('GET', `session:${id}`), /"_addr":"10\.0\.0\.66, 203\.0\.113\.8"/, 'the text Quart will compare');
    assert.equal((await browser.get(`${m.quart.url}/user`, xff(header))).status, 200, 'Quart keeps its user logged in');
    assert.equal((await browser.get(`${m.koa.url}/whoami`, xff(header))).status, 200);
    assert.equal((await browser.get(`${m.koa.url}/whoami`, xff('10.0.0.66, 198.51.100.9'))).status, 401, 'the same spoofable entry from another client: refused');
    assert.equal(await m.cli('EXISTS', `session:${id}`), '0');
  });

  it('two proxies, Quart-created: the Koa app compares the chain as Quart does, keeps it byte for byte, refuses another client', async () => {
    const browser = new SharedBrowser();
    await browser.get(`${m.quart.url}/login`, xff(CHAIN));
    const id = browser.cookie!;
    assert.match(await m.cli('GET', `session:${id}`), /"_addr":"10\.0\.0\.5, 203\.0\.113\.7"/);
    const mismatches = twoHops.pinMismatches.length;

    assert.equal((await browser.get(`${twoHops.url}/whoami`, xff(CHAIN))).status, 200, 'logged in on Koa');
    assert.equal((await browser.get(`${twoHops.url}/visit`, xff(CHAIN))).status, 200);
    assert.match(await m.cli('GET', `session:${id}`), /"_addr":"10\.0\.0\.5, 203\.0\.113\.7".*"koa_visits":1/, "Quart's pin is kept as it was");
    assert.equal((await browser.get(`${m.quart.url}/user`, xff(CHAIN))).status, 200, 'still logged in on Quart');
    assert.equal(twoHops.pinMismatches.length, mismatches);

    // A stolen cookie from another client behind the same proxies (accepted from anywhere before).
    assert.equal((await browser.get(`${twoHops.url}/whoami`, xff(OTHER_CLIENT))).status, 401);
    assert.deepEqual([twoHops.pinMismatches.at(-1)?.expected, twoHops.pinMismatches.at(-1)?.actual], [CHAIN, '10.0.0.9']);
    assert.equal(await m.cli('EXISTS', `session:${id}`), '0', 'deleted, as Quart deletes it');
  });

  it('two proxies, Quart-created: a request with no X-Forwarded-For is refused (fails closed)', async () => {
    const browser = new SharedBrowser();
    await browser.get(`${m.quart.url}/login`, xff(CHAIN));
    const id = browser.cookie!;
    assert.equal((await browser.get(`${twoHops.url}/whoami`)).status, 401);
    assert.equal(twoHops.pinMismatches.at(-1)?.actual, 'unverified');
    assert.equal(await m.cli('EXISTS', `session:${id}`), '0');
  });

  it('two proxies, Koa-created: pinned with the chain text, which Quart accepts on its next visit', async () => {
    const browser = new SharedBrowser();
    assert.equal((await browser.get(`${twoHops.url}/login`, xff(CHAIN))).status, 200);
    const id = browser.cookie!;
    assert.match(await m.cli('GET', `session:${id}`), /"_addr":"10\.0\.0\.5, 203\.0\.113\.7"/);
    assert.equal((await browser.get(`${m.quart.url}/user`, xff(CHAIN))).status, 200, 'Quart keeps its user logged in');
    assert.equal(await m.cli('EXISTS', `session:${id}`), '1');
    assert.equal((await browser.get(`${twoHops.url}/whoami`, xff(CHAIN))).status, 200, 'and so does Koa');
    assert.equal((await browser.get(`${twoHops.url}/whoami`, xff(OTHER_CLIENT))).status, 401, 'another client: refused by Koa');
    assert.equal(await m.cli('EXISTS', `session:${id}`), '0');

    const again = new SharedBrowser();
    await again.get(`${twoHops.url}/login`, xff(CHAIN));
    assert.equal((await again.get(`${m.quart.url}/user`, xff(OTHER_CLIENT))).status, 401, 'and by Quart');
    assert.equal(await m.cli('EXISTS', `session:${again.cookie!}`), '0');
  });
});
