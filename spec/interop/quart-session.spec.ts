/**
 * A Quart app that keeps sessions as Quart-Session 3.0 does (spec/interop/support/quart_session_app.py,
 * on Debian's python3-quart) and a Koa app on `qsession(fromQuartConfig(config))` share one throwaway
 * Redis and one browser (issue 14: no logouts, no deletions, no rewrites of the other app's data).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'redis';
import { PYTHON } from '../support/python.js';
import { startStandalone, type Standalone } from '../support/redis.js';
import { startKoa, type KoaSide } from './support/koa-app.js';
import { ensurePythonPackages, SharedBrowser, startPythonApp, type PythonApp } from './support/python-apps.js';

const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('sharing a Redis with a Quart-Session app', () => {
  let redis: Standalone;
  let quart: PythonApp;
  let koa: KoaSide;

  before(async () => {
    ensurePythonPackages();
    redis = await startStandalone();
    quart = await startPythonApp('quart_session_app.py', ['--redis', redis.server.url]);
    // The Python app's config, as its developer wrote it.
    koa = await startKoa({ SESSION_TYPE: 'redis', SESSION_URI: redis.server.url, SESSION_COOKIE_NAME: 'session', PERMANENT_SESSION_LIFETIME: 3600 });
  });

  after(async () => {
    await koa?.close();
    await quart?.stop();
    await redis?.cleanup();
  });

  const cli = async (...args: string[]) => (await redis.server.cli(...args)).trimEnd();

  it('a user logged in on the Quart app is still logged in on the Koa app', async () => {
    const browser = new SharedBrowser();
    assert.equal((await browser.get(`${quart.url}/login`)).status, 200, quart.output());
    const id = browser.cookie!;
    assert.match(id, UUID4, "Quart-Session's str(uuid4()) id");
    assert.match(await cli('GET', `session:${id}`), /"_addr":"127\.0\.0\.1"/, 'Quart writes _addr with pinning off');

    const reply = await browser.get(`${koa.url}/whoami`);
    assert.equal(reply.status, 200);
    assert.deepEqual(JSON.parse(reply.text), { user_id: 42 });
    assert.deepEqual(reply.setCookies, [], 'the Koa app leaves the cookie alone');
    assert.equal(browser.cookie, id);
    // Python values read as JavaScript values a client expects.
    assert.equal((await browser.get(`${koa.url}/cart`)).text, '["sku-1",2]');
    assert.equal((await browser.get(`${koa.url}/note`)).text, '{"note":"<b>hi</b>"}');
    assert.equal((await browser.get(`${quart.url}/whoami`)).status, 200, 'and still on the Quart app');
  });

  it('the Koa app makes uuid ids like Quart-Session, which the Quart app reads', async () => {
    const browser = new SharedBrowser();
    assert.equal((await browser.get(`${koa.url}/visit`)).status, 200);
    assert.match(browser.cookie!, UUID4);
    assert.equal((await browser.get(`${quart.url}/whoami`)).status, 401, 'anonymous there, but no error');
    assert.match(await cli('GET', `session:${browser.cookie!}`), /^\{"_permanent":true,"koa_visits":1\}$/);
  });

  it(
    'after Koa writes a key, the Quart app reads every value with its Python type (naive datetime included)',
    async () => {
      const browser = new SharedBrowser();
      await browser.get(`${quart.url}/login`);
      const before = await cli('GET', `session:${browser.cookie!}`);
      assert.equal((await browser.get(`${koa.url}/visit`)).status, 200);
      const afterKoa = await cli('GET', `session:${browser.cookie!}`);
      assert.match(afterKoa, /"koa_visits":1/);
      const reply = await browser.get(`${quart.url}/whoami`);
      assert.equal(reply.status, 200, `Quart answered ${reply.status} ${reply.text}\n  before: ${before}  after: ${afterKoa}\n${quart.output().slice(-1500)}`);
      const body = JSON.parse(reply.text) as { user_id: number; elapsed_ok: boolean; others: Record<string, unknown> };
      assert.equal(body.user_id, 42);
      assert.equal(body.elapsed_ok, true);
      assert.deepEqual(body.others, { koa_visits: 1 });
    },
  );

  it('an entry the Koa app cannot decode is still in Redis after a Koa request carrying its id', async () => {
    const browser = new SharedBrowser();
    const id = crypto.randomUUID();
    // Flask-Session 0.7+'s default entry: msgpack of {"_permanent": True, "user_id": 7}, packed by
    // Python's msgpack (Flask-Session 0.7+ itself cannot be installed here; Debian ships 0.3.2).
    const msgpack = spawnSync(PYTHON, ['-c', 'import msgpack, sys; sys.stdout.buffer.write(msgpack.packb({"_permanent": True, "user_id": 7}))']).stdout;
    assert.deepEqual(msgpack, Buffer.from([0x82, 0xaa, ...Buffer.from('_permanent'), 0xc3, 0xa7, ...Buffer.from('user_id'), 0x07]), 'the msgpack bytes, as the format spells them');
    const writer = await createClient({ url: redis.server.url }).connect();
    await writer.set(`session:${id}`, msgpack, { EX: 600 });
    await writer.close();
    const digest = () => cli('EVAL', "return redis.sha1hex(redis.call('GET', KEYS[1]) or '')", '1', `session:${id}`);
    const stored = await digest();
    browser.jar.set('session', id);
    const failuresBefore = koa.decodeErrors.length;

    const reply = await browser.get(`${koa.url}/whoami`);
    assert.equal(reply.status, 401, 'a fresh, anonymous session');
    assert.deepEqual(reply.setCookies, [], 'the cookie is not cleared either');
    assert.equal(await digest(), stored, 'the entry is untouched, byte for byte');
    assert.ok(Number(await cli('TTL', `session:${id}`)) > 500, 'its TTL is untouched');
    assert.equal(koa.decodeErrors.length, failuresBefore + 1);
    const event = koa.decodeErrors.at(-1)!;
    assert.match(event.session, /^[A-Za-z0-9_-]{12}$/);
    assert.ok(!JSON.stringify(event).includes(id) && !event.error.message.includes(id), 'the event never carries the id');

    // A handler that writes is refused (SessionForeignError, 409): no new session, no cookie replaced.
    const write = await browser.get(`${koa.url}/visit`);
    assert.equal(write.status, 409);
    assert.deepEqual(write.setCookies, []);
    assert.equal(await digest(), stored, 'still untouched after a write was tried');
  });

  it("a cookie of another shape never reaches Redis and is cleared", async () => {
    const browser = new SharedBrowser();
    browser.jar.set('session', 'not-an-id');
    const reply = await browser.get(`${koa.url}/whoami`);
    assert.equal(reply.status, 401);
    assert.equal(browser.cookie, undefined);
  });
});
