/**
 * Issue 23, point 4: a Quart 0.18 app computes with naive UTC datetimes (`datetime.utcnow() -
 * session['login_at']`). Real Quart 0.18 (Debian's python3-quart, spec/interop/support/quart_session_app.py)
 * and two Koa apps share one throwaway Redis: one with the default serializer (HTTP dates, which
 * Quart reads as AWARE datetimes: its arithmetic raises TypeError, a 500), one with
 * `new TaggedJsonSerializer({ dates: 'naive-utc' })`, whose dates Quart reads as naive.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TaggedJsonSerializer } from 'koa-qsession';
import { startStandalone, type Standalone } from '../support/redis.js';
import { startKoa, type KoaSide } from './support/koa-app.js';
import { ensurePythonPackages, SharedBrowser, startPythonApp, type PythonApp } from './support/python-apps.js';

describe("dates a Quart 0.18 app can compute with (dates: 'naive-utc')", () => {
  let redis: Standalone;
  let quart: PythonApp;
  let naiveKoa: KoaSide;
  let httpKoa: KoaSide;

  before(async () => {
    ensurePythonPackages();
    redis = await startStandalone();
    quart = await startPythonApp('quart_session_app.py', ['--redis', redis.server.url]);
    const config = { SESSION_TYPE: 'redis', SESSION_URI: redis.server.url, SESSION_COOKIE_NAME: 'session', PERMANENT_SESSION_LIFETIME: 3600 };
    naiveKoa = await startKoa(config, { serializer: new TaggedJsonSerializer({ dates: 'naive-utc' }) });
    httpKoa = await startKoa(config);
  });

  after(async () => {
    await naiveKoa?.close();
    await httpKoa?.close();
    await quart?.stop();
    await redis?.cleanup();
  });

  const stored = async (id: string) => (await redis.server.cli('GET', `session:${id}`)).trimEnd();
  const sinceLogin = async (browser: SharedBrowser) => {
    const reply = await browser.get(`${quart.url}/since-login`);
    return { ...reply, detail: `Quart answered ${reply.status} ${reply.text.slice(0, 200)}\n${quart.output().slice(-1500)}` };
  };

  it('after a Koa login, Quart computes utcnow() - login_at and answers 200 with the same instant', async () => {
    const browser = new SharedBrowser();
    const login = await browser.get(`${naiveKoa.url}/login`);
    assert.equal(login.status, 200);
    const written = new Date((JSON.parse(login.text) as { login_at: string }).login_at);
    const text = await stored(browser.cookie!);
    assert.match(text, /"login_at":\{" d":"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}000"\}/, 'naive ISO, as Quart 0.18 writes utcnow()');

    const reply = await sinceLogin(browser);
    assert.equal(reply.status, 200, reply.detail);
    const body = JSON.parse(reply.text) as { seconds: number; login_at: string };
    assert.ok(body.seconds >= 0, `elapsed ${body.seconds} s`);
    // Quart's naive datetime is the instant Koa stored, in UTC wall time, to the microsecond.
    assert.equal(body.login_at, `${written.toISOString().slice(0, -1)}000`);
  });

  it('the same login from a Koa app writing HTTP dates is a 500 in Quart (the defect this option fixes)', async () => {
    const browser = new SharedBrowser();
    assert.equal((await browser.get(`${httpKoa.url}/login`)).status, 200);
    assert.match(await stored(browser.cookie!), /"login_at":\{" d":"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT"\}/);
    const reply = await sinceLogin(browser);
    assert.equal(reply.status, 500, reply.detail);
    assert.equal(reply.text, "TypeError: can't subtract offset-naive and offset-aware datetimes");
  });

  it('a Quart login whose login_at Koa rewrites: Quart still computes with it', async () => {
    const browser = new SharedBrowser();
    assert.equal((await browser.get(`${quart.url}/login`)).status, 200);
    assert.equal((await sinceLogin(browser)).status, 200, 'Quart computes with its own naive datetime');
    assert.equal((await browser.get(`${naiveKoa.url}/login`)).status, 200, 'Koa writes login_at again');
    const reply = await sinceLogin(browser);
    assert.equal(reply.status, 200, reply.detail);
    const whoami = await browser.get(`${quart.url}/whoami`);
    assert.equal(whoami.status, 200, `every other Quart value keeps its type: ${whoami.text}`);
  });

  it('a Quart login that Koa does not touch keeps its naive date byte for byte, whichever date format Koa writes', async () => {
    for (const koa of [httpKoa, naiveKoa]) {
      const browser = new SharedBrowser();
      await browser.get(`${quart.url}/login`);
      const before = (await stored(browser.cookie!)).match(/"login_at":\{" d":"[^"]+"\}/)![0];
      assert.equal((await browser.get(`${koa.url}/visit`)).status, 200);
      assert.ok((await stored(browser.cookie!)).includes(before), 'login_at is copied as stored');
      assert.equal((await sinceLogin(browser)).status, 200);
    }
  });
});
