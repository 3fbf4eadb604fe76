/**
 * Flask-Session shares a Redis with koa-qsession only with a tagged-JSON serializer (issue 14,
 * point 7). Debian ships Flask-Session 0.3.2 (python3-flask-session): the spec runs it both ways.
 * docs/python-interop-sharing.md gives the lines for 0.3-0.6 (tested here) and for 0.7+.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startStandalone, type Standalone } from '../support/redis.js';
import { startKoa, type KoaSide } from './support/koa-app.js';
import { ensurePythonPackages, SharedBrowser, startPythonApp, type PythonApp } from './support/python-apps.js';

describe('sharing a Redis with a Flask-Session app', () => {
  let redis: Standalone;
  let tagged: PythonApp;
  let pickled: PythonApp;
  let koa: KoaSide;
  const cli = async (...args: string[]) => (await redis.server.cli(...args)).trimEnd();

  before(async () => {
    ensurePythonPackages();
    redis = await startStandalone();
    tagged = await startPythonApp('flask_session_app.py', ['--redis', redis.server.url]);
    pickled = await startPythonApp('flask_session_app.py', ['--redis', redis.server.url, '--pickle']);
    koa = await startKoa({ SESSION_TYPE: 'redis', SESSION_URI: redis.server.url, PERMANENT_SESSION_LIFETIME: 3600 });
  });

  after(async () => {
    await koa?.close();
    await tagged?.stop();
    await pickled?.stop();
    await redis?.cleanup();
  });

  it('with the tagged-JSON serializer: logged in on both, and each reads what the other wrote', async () => {
    const browser = new SharedBrowser();
    assert.equal((await browser.get(`${tagged.url}/login`)).status, 200, tagged.output());
    assert.match(await cli('GET', `session:${browser.cookie!}`), /"cart":\{" t":\["sku-1",2\]\}/, 'tagged JSON in Redis');
    assert.equal((await browser.get(`${koa.url}/whoami`)).status, 200);
    assert.equal((await browser.get(`${koa.url}/visit`)).status, 200);
    const reply = await browser.get(`${tagged.url}/whoami`);
    assert.equal(reply.status, 200, `${reply.text}\n${tagged.output().slice(-1500)}`);
    assert.deepEqual(JSON.parse(reply.text), { user_id: 42, elapsed_ok: true, others: { koa_visits: 1 } });
  });

  it("with Flask-Session's default (pickle): the Koa app cannot read it and leaves it alone", async () => {
    const browser = new SharedBrowser();
    assert.equal((await browser.get(`${pickled.url}/login`)).status, 200, pickled.output());
    const id = browser.cookie!;
    const digest = () => cli('EVAL', "return redis.sha1hex(redis.call('GET', KEYS[1]) or '')", '1', `session:${id}`);
    const stored = await digest();
    const errors = koa.decodeErrors.length;
    const reply = await browser.get(`${koa.url}/whoami`);
    assert.equal(reply.status, 401, 'anonymous on the Koa app');
    assert.deepEqual(reply.setCookies, []);
    assert.equal(koa.decodeErrors.length, errors + 1);
    assert.equal(await digest(), stored, 'the pickled entry is untouched');
    assert.equal((await browser.get(`${pickled.url}/whoami`)).status, 200, 'still logged in on the Flask app');
  });

  it("with Flask-Session's default (pickle): a Koa handler that writes is refused (409), and the Flask user stays logged in", async () => {
    const browser = new SharedBrowser();
    assert.equal((await browser.get(`${pickled.url}/login`)).status, 200, pickled.output());
    const id = browser.cookie!;
    const digest = () => cli('EVAL', "return redis.sha1hex(redis.call('GET', KEYS[1]) or '')", '1', `session:${id}`);
    const stored = await digest();
    const reply = await browser.get(`${koa.url}/visit`);
    assert.equal(reply.status, 409, 'SessionForeignError: the session is another app\'s');
    assert.deepEqual(reply.setCookies, [], 'the Flask app\'s cookie is not replaced');
    assert.equal(browser.cookie, id);
    assert.equal(await digest(), stored, 'the pickled entry is untouched');
    assert.equal((await browser.get(`${pickled.url}/whoami`)).status, 200, 'still logged in on the Flask app');
  });
});
