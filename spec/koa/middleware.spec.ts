import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import Koa from 'koa';
import serveStatic from 'koa-static';
import { qsession, session, SessionUsageError, type QSessionOptions } from 'koa-qsession';
import { Client, parseSetCookie, serve, type Served } from '../support/http.js';
import { RecordingStore } from '../support/recording-store.js';

const ID = /^[A-Za-z0-9_-]{43}$/;
const servers: Served[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

/** An app with the session middleware and a few routes that use it. */
async function start(options: QSessionOptions = {}) {
  const store = new RecordingStore();
  const app = new Koa();
  app.silent = true;
  const sessions = qsession({ store, ...options });
  app.use(sessions);
  app.use(serveStatic(fileURLToPath(new URL('../../example-app/static', import.meta.url))));
  app.use(async (ctx) => {
    const [, route, arg] = ctx.path.split('/');
    switch (route) {
      case 'read':
        ctx.body = JSON.stringify(session.toJSON());
        return;
      case 'set':
        session[arg!] = ctx.query.v ?? 'x';
        ctx.body = 'ok';
        return;
      case 'push':
        ((session.cart ??= { items: [] }) as { items: string[] }).items.push(arg!);
        ctx.body = 'ok';
        return;
      case 'mutate':
        (session.cart as { items: string[] }).items.push(arg!);
        ctx.body = 'ok';
        return;
      case 'dirty':
        session.visited = true;
        session.dirty();
        ctx.body = 'ok';
        return;
      case 'destroy':
        session.destroy();
        ctx.body = 'ok';
        return;
      case 'clear':
        session.clear();
        ctx.body = 'ok';
        return;
      case 'regenerate':
        session.regenerate();
        ctx.body = session.id;
        return;
      case 'throw':
        session.lost = true;
        if (arg === 'destroy') session.destroy();
        ctx.throw(500, 'boom');
        return;
      case 'slow-set':
        await sleep(Number(ctx.query.ms ?? 50));
        session[arg!] = ctx.query.v ?? 'x';
        ctx.body = 'ok';
        return;
      case 'bad':
        session.fn = () => 1;
        ctx.body = 'ok';
        return;
      case 'id':
        ctx.body = session.id;
        return;
      default:
        ctx.status = 404;
    }
  });
  const served = await serve(app);
  servers.push(served);
  return { store, sessions, url: served.url, client: () => new Client(served.url) };
}

const sessionCookie = (lines: string[]) => lines.map(parseSetCookie).find((c) => c.name === 'session');

describe('qsession middleware over HTTP', () => {
  it('a request without a cookie that does not touch the session: no store call, no cookie', async () => {
    const { store, client } = await start();
    const reply = await client().get('/read');
    assert.equal(reply.text, '{}');
    assert.deepEqual(reply.setCookies, []);
    assert.deepEqual(store.calls, []);
  });

  it('a change creates the session: one store write and a well-formed cookie', async () => {
    const { store, client } = await start();
    const reply = await client().get('/set/foo?v=bar');
    assert.deepEqual(store.calls, ['create']);
    const cookie = sessionCookie(reply.setCookies);
    assert.ok(cookie);
    assert.match(cookie.value, ID);
    assert.equal(cookie.attributes.get('path'), '/');
    assert.equal(cookie.attributes.get('samesite'), 'lax');
    assert.ok(cookie.attributes.has('httponly'));
    assert.ok(!cookie.attributes.has('secure'));
    const lifetime = Date.parse(cookie.attributes.get('expires')!) - Date.now();
    assert.ok(Math.abs(lifetime - 31 * 24 * 3600 * 1000) < 5000, 'permanent cookie lives 31 days');
    assert.equal(await store.inner.get(`session:${cookie.value}`), '{"_permanent":true,"foo":"bar"}');
  });

  it('reading an existing session costs one store call and sends no cookie', async () => {
    const { store, client } = await start();
    const browser = client();
    await browser.get('/set/foo?v=bar');
    store.reset();
    const reply = await browser.get('/read');
    assert.equal(reply.text, '{"foo":"bar"}');
    assert.deepEqual(store.calls, ['get']);
    assert.deepEqual(reply.setCookies, []);
  });

  it('ctx.session and the global session are the same object at any depth of await', async () => {
    const app = new Koa();
    app.use(qsession());
    app.use(async (ctx) => {
      await sleep(5);
      const deep = await new Promise((resolve) => setTimeout(() => resolve(session.id), 5));
      ctx.body = JSON.stringify({ same: ctx.session.id === session.id && deep === session.id, id: session.id });
    });
    const served = await serve(app);
    servers.push(served);
    const replies = await Promise.all(Array.from({ length: 20 }, () => new Client(served.url).get('/')));
    const bodies = replies.map((r) => JSON.parse(r.text) as { same: boolean; id: string });
    assert.ok(bodies.every((b) => b.same));
    assert.equal(new Set(bodies.map((b) => b.id)).size, 20, 'concurrent requests never share a session');
  });

  it('the global session outside a request throws a clear error', () => {
    assert.throws(() => session.foo, SessionUsageError);
    assert.throws(() => {
      session.foo = 1;
    }, /outside a request/);
  });

  it('a nested change is saved', async () => {
    const { client } = await start();
    const browser = client();
    await browser.get('/push/apple');
    const reply = await browser.get('/mutate/pear');
    assert.equal(sessionCookie(reply.setCookies)?.value, browser.jar.get('session'));
    assert.equal((await browser.get('/read')).text, '{"cart":{"items":["apple","pear"]}}');
  });

  it('a malformed cookie never reaches the store; the new session gets a new id', async () => {
    const { store, client } = await start();
    for (const bad of ['short', 'x'.repeat(43).replace(/x$/, '!'), '../../etc/passwd', 'a'.repeat(5000), '%00%ff']) {
      store.reset();
      const reply = await client().get('/set/foo', { cookie: `session=${bad}` });
      assert.deepEqual(store.calls, ['create'], `no load for ${bad.slice(0, 20)}`);
      const id = sessionCookie(reply.setCookies)?.value;
      assert.match(id ?? '', ID);
      assert.notEqual(id, bad);
    }
  });

  it('an unknown id is never adopted: fresh session, new id, stale cookie cleared', async () => {
    const { store, client } = await start();
    const planted = 'A'.repeat(43);
    let reply = await client().get('/set/foo', { cookie: `session=${planted}` });
    // The second get asks whether the id was retired a moment ago (core/retired.ts): it was not.
    assert.deepEqual(store.calls, ['get', 'get', 'create']);
    const id = sessionCookie(reply.setCookies)?.value;
    assert.match(id ?? '', ID);
    assert.notEqual(id, planted);
    assert.equal(await store.inner.get(`session:${planted}`), null);
    reply = await client().get('/read', { cookie: `session=${planted}` });
    const cleared = sessionCookie(reply.setCookies);
    assert.equal(cleared?.value, '');
    assert.equal(Date.parse(cleared!.attributes.get('expires')!), 0);
  });

  it('explicit mode: nothing is written and no cookie is sent without dirty()', async () => {
    const { store, client } = await start({ explicit: true });
    const browser = client();
    let reply = await browser.get('/set/foo');
    assert.deepEqual(reply.setCookies, []);
    assert.deepEqual(store.calls, []);
    reply = await browser.get('/dirty');
    assert.ok(sessionCookie(reply.setCookies));
    assert.deepEqual(store.calls, ['create']);
    store.reset();
    reply = await browser.get('/set/foo');
    assert.deepEqual(store.calls, ['get'], 'a change without dirty() is not saved');
    assert.equal((await browser.get('/read')).text, '{"visited":true}');
  });

  it('static files get no Set-Cookie and cause no store write', async () => {
    const { store, client } = await start({ rolling: true });
    const browser = client();
    await browser.get('/set/foo');
    store.reset();
    const reply = await browser.get('/style.css');
    assert.equal(reply.status, 200);
    assert.match(reply.text, /font-family/);
    assert.deepEqual(reply.setCookies, []);
    assert.ok(!store.calls.includes('create') && !store.calls.includes('replace'));
    const anonymous = await client().get('/style.css');
    assert.deepEqual(anonymous.setCookies, []);
  });

  it('a change on a static response: saved for a session the client holds, a warning for a new one', async () => {
    const { sessions, client } = await start({ isStatic: (ctx) => ctx.path.startsWith('/set/static') });
    const warnings: string[] = [];
    sessions.on('warning', ({ message }) => warnings.push(message));
    const browser = client();
    await browser.get('/set/foo?v=1');
    const onStatic = await browser.get('/set/static?v=2');
    assert.deepEqual(onStatic.setCookies, []);
    assert.equal((await browser.get('/read')).text, '{"foo":"1","static":"2"}');
    assert.deepEqual(warnings, []);
    const stranger = await client().get('/set/static');
    assert.deepEqual(stranger.setCookies, []);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /static file/);
  });

  it('staticFile: true lets static responses carry the cookie', async () => {
    const { client } = await start({ staticFile: true, rolling: true });
    const browser = client();
    await browser.get('/set/foo');
    const reply = await browser.get('/style.css');
    assert.ok(sessionCookie(reply.setCookies));
  });

  it('destroy() removes the store entry and clears the cookie; the old cookie is then anonymous', async () => {
    const { store, client } = await start();
    const browser = client();
    await browser.get('/set/user?v=ann');
    const old = browser.jar.get('session')!;
    const reply = await browser.get('/destroy');
    assert.equal(sessionCookie(reply.setCookies)?.value, '');
    assert.equal(await store.inner.get(`session:${old}`), null);
    assert.equal((await client().get('/read', { cookie: `session=${old}` })).text, '{}');
  });

  it('emptying a stored session deletes it and clears the cookie', async () => {
    const { store, client } = await start();
    const browser = client();
    await browser.get('/set/a');
    const id = browser.jar.get('session')!;
    store.reset();
    const reply = await browser.get('/clear');
    assert.deepEqual(store.calls, ['get', 'deleteIf']);
    assert.equal(sessionCookie(reply.setCookies)?.value, '');
    assert.equal(await store.inner.get(`session:${id}`), null);
  });

  it('regenerate() moves the data to a new id; the old id stops working', async () => {
    const { store, client } = await start();
    const browser = client();
    await browser.get('/set/user?v=ann');
    const old = browser.jar.get('session')!;
    const reply = await browser.get('/regenerate');
    const fresh = sessionCookie(reply.setCookies)?.value;
    assert.equal(fresh, reply.text);
    assert.notEqual(fresh, old);
    assert.equal(await store.inner.get(`session:${old}`), null);
    assert.equal((await browser.get('/read')).text, '{"user":"ann"}');
  });

  it('a handler that fails (5xx): its data changes are dropped, destroy() still happens (4xx: spec/koa/idioms.spec.ts)', async () => {
    const { store, client } = await start();
    const browser = client();
    await browser.get('/set/user?v=ann');
    const id = browser.jar.get('session')!;
    assert.equal((await browser.get('/throw')).status, 500);
    assert.equal((await browser.get('/read')).text, '{"user":"ann"}');
    assert.equal((await browser.get('/throw/destroy')).status, 500);
    assert.equal(await store.inner.get(`session:${id}`), null);
  });

  // The next two: `turnWait: 0`, so the requests overlap as they do from two processes (otherwise a
  // writer's save waits for the one ahead of it: spec/core/session-line.spec.ts).
  it('two overlapping requests that change different keys both keep their change', async () => {
    const { client } = await start({ turnWait: 0 });
    const browser = client();
    await browser.get('/set/base');
    await Promise.all([browser.get('/slow-set/a?ms=60&v=1'), browser.get('/slow-set/b?ms=10&v=2')]);
    assert.deepEqual(JSON.parse((await browser.get('/read')).text), { base: 'x', a: '1', b: '2' });
  });

  it('a session destroyed by one request is not brought back by a slower one', async () => {
    const { client } = await start({ turnWait: 0 });
    const browser = client();
    await browser.get('/set/base');
    const cookie = browser.cookieHeader!;
    const [slow] = await Promise.all([browser.get('/slow-set/a?ms=80', { cookie }), browser.get('/destroy', { cookie })]);
    assert.equal(sessionCookie(slow.setCookies), undefined, 'the slow request sends no cookie: it does not own the session any more');
    assert.equal((await client().get('/read', { cookie })).text, '{}');
  });

  it('an unserializable value fails the request and writes nothing', async () => {
    const { store, client } = await start();
    const reply = await client().get('/bad');
    assert.equal(reply.status, 500);
    assert.deepEqual(reply.setCookies, []);
    assert.deepEqual(store.calls, []);
  });

  it('maxSize refuses an oversized session and writes nothing', async () => {
    const { store, client } = await start({ maxSize: 64 });
    const reply = await client().get(`/set/big?v=${'x'.repeat(100)}`);
    assert.equal(reply.status, 500);
    assert.deepEqual(store.calls, []);
  });

  it('rolling: a read refreshes the store TTL in the same call and re-sends the cookie, unless the id was retired meanwhile', async () => {
    const { store, client } = await start({ rolling: true });
    const browser = client();
    await browser.get('/set/a');
    store.reset();
    const reply = await browser.get('/read');
    // get+touch: GETEX; get: is the id retired (a login in another process)? Only then is no cookie sent.
    assert.deepEqual(store.calls, ['get+touch', 'get']);
    assert.ok(sessionCookie(reply.setCookies)?.attributes.has('expires'));
  });

  it('permanent: false gives a browser-session cookie', async () => {
    const { client } = await start({ permanent: false });
    const cookie = sessionCookie((await client().get('/set/a')).setCookies);
    assert.ok(cookie && !cookie.attributes.has('expires'));
  });

  it('cookie options are applied; secure "auto" follows ctx.secure', async () => {
    const { client } = await start({ cookie: { name: 'sid', path: '/', sameSite: 'strict', secure: 'auto', httpOnly: true } });
    const reply = await client().get('/set/a');
    const cookie = reply.setCookies.map(parseSetCookie).find((c) => c.name === 'sid');
    assert.equal(cookie?.attributes.get('samesite'), 'strict');
    assert.ok(!cookie?.attributes.has('secure'), 'plain http: no Secure');
    const proxied = await start({ cookie: { secure: 'auto' } });
    const viaTls = await proxied.client().get('/set/a', { headers: { 'x-forwarded-proto': 'https' } });
    assert.ok(!sessionCookie(viaTls.setCookies)?.attributes.has('secure'), 'X-Forwarded-Proto is ignored unless app.proxy');
  });

  it('the cookie attribute options reach Set-Cookie (over plain HTTP, so not secure or partitioned), on the cookie that sets and on the one that clears; unset ones are absent', async () => {
    const { client } = await start({
      cookie: { name: 'sid', path: '/app', domain: 'example.test', httpOnly: false, secure: false, sameSite: 'strict', priority: 'high' },
    });
    const browser = client();
    const set = (await browser.get('/set/a')).setCookies.map(parseSetCookie).find((c) => c.name === 'sid');
    const cleared = (await browser.get('/destroy', { headers: { cookie: `sid=${set?.value}` } })).setCookies.map(parseSetCookie).find((c) => c.name === 'sid');
    for (const [which, cookie] of [['set', set], ['clear', cleared]] as const) {
      assert.ok(cookie, which);
      assert.deepEqual(
        [...cookie.attributes.keys()].sort(),
        ['domain', 'expires', 'path', 'priority', 'samesite'],
        `${which}: httpOnly and secure are off`,
      );
      assert.equal(cookie.attributes.get('path'), '/app');
      assert.equal(cookie.attributes.get('domain'), 'example.test');
      assert.equal(cookie.attributes.get('priority'), 'high');
      assert.equal(cookie.attributes.get('samesite'), 'strict');
    }
    assert.equal(cleared?.value, '');
    assert.equal(cleared?.attributes.get('expires'), new Date(0).toUTCString());
    const defaults = await start();
    const plain = sessionCookie((await defaults.client().get('/set/a')).setCookies);
    assert.deepEqual([...(plain?.attributes.keys() ?? [])].sort(), ['expires', 'httponly', 'path', 'samesite'], 'the defaults: no domain, priority or partitioned');
  });
});
