import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryStore, qsession, SessionOptionsError, SessionSerializationError, SessionTooLargeError } from 'koa-qsession';
import { closeAll, ID, sessionCookie, start } from './app.js';

after(closeAll);

/** Sends raw request bytes (anything a client library would refuse) and returns the raw response. */
function rawRequest(url: string, head: Buffer): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(head));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    // A server may refuse an oversized request by resetting the connection mid-write (Node 24 does,
    // after or instead of its 431): that is a refusal too, shown to the caller as 'RESET'.
    socket.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ECONNRESET' || error.code === 'EPIPE' ? resolve(Buffer.concat(chunks).toString('latin1') || 'RESET') : reject(error),
    );
  });
}

const prototypeKeys = () => Object.getOwnPropertyNames(Object.prototype).sort().join();

describe('hostile input', () => {
  it('duplicated cookie names: the first one counts (RFC 6265: the most specific path comes first)', async () => {
    const { store, client } = await start();
    const ann = client();
    await ann.get('/set/user?v=ann');
    const bob = client();
    await bob.get('/set/user?v=bob');
    const [a, b] = [ann.jar.get('session')!, bob.jar.get('session')!];
    assert.equal((await client().get('/read', { cookie: `session=${a}; session=${b}` })).text, '{"user":"ann"}');
    assert.equal((await client().get('/read', { cookie: `other=1; session=${b}; session=${a}` })).text, '{"user":"bob"}');
    store.reset();
    const reply = await client().get('/read', { cookie: `session=garbage; session=${a}` });
    assert.equal(reply.text, '{}', 'an invalid first cookie is not skipped in favour of a later one');
    assert.deepEqual(store.calls, []);
    assert.match(await store.inner.get(`session:${a}`) as string, /ann/, 'nobody else\'s session was touched');
  });

  it('the cookie is read through ctx.cookies: quoted values, spacing, and app.keys (Keygrip) do not change it', async () => {
    // app.keys makes ctx.cookies.get() expect a Keygrip `.sig` cookie by default; the session
    // cookie is never one (koa-qsession signs with its own `keys`), so it is read unsigned.
    const { client } = await start({}, (app) => (app.keys = ['keygrip-secret-for-other-cookies']));
    const ann = client();
    await ann.get('/set/user?v=ann');
    const id = ann.jar.get('session')!;
    for (const cookie of [`session=${id}`, `session="${id}"`, `a=1;session=${id}`, `a=1;   session=${id}  ; b=2`]) {
      assert.equal((await client().get('/read', { cookie })).text, '{"user":"ann"}', cookie);
    }
    assert.equal((await client().get('/read', { cookie: `xsession=${id}` })).text, '{}', 'another cookie whose name ends in "session"');
  });

  it('oversized, malformed and non-ASCII cookie headers: no crash, no store call', async () => {
    const { store, url, client } = await start();
    const headers = [
      `session=${'A'.repeat(8000)}`,
      `${'x=1; '.repeat(1500)}session=${'B'.repeat(43)}`.slice(0, 8000),
      'session',
      'session=;;;;=;=',
      '=session=abc',
      'session="unterminated',
      `session="${'C'.repeat(43)}`,
      'session=é€😀',
      'ßession=x',
    ];
    for (const cookie of headers) {
      store.reset();
      const reply = await rawRequest(url, Buffer.from(`GET /set/a HTTP/1.1\r\nHost: x\r\nCookie: ${cookie}\r\nConnection: close\r\n\r\n`, 'utf8'));
      assert.match(reply, /^HTTP\/1\.1 200/, cookie.slice(0, 30));
      assert.ok(!store.calls.includes('get') || cookie.includes('B'.repeat(43)), `no store lookup for ${cookie.slice(0, 30)}`);
      assert.deepEqual(store.badKeys, []);
    }
    // Past Node's header limit the server refuses by itself (431, or a reset); the app keeps serving.
    const huge = await rawRequest(url, Buffer.from(`GET /read HTTP/1.1\r\nHost: x\r\nCookie: session=${'D'.repeat(70_000)}\r\nConnection: close\r\n\r\n`));
    assert.match(huge, /^(HTTP\/1\.1 431|RESET$)/);
    assert.equal((await client().get('/read')).status, 200);
  });

  it('__proto__, constructor and prototype are ordinary keys: stored, read back, no pollution', async () => {
    const before = prototypeKeys();
    const { store, client } = await start();
    const browser = client();
    await browser.get('/json/__proto__?v=' + encodeURIComponent('{"polluted":true}'));
    await browser.get('/set/constructor?v=c');
    await browser.get('/json/prototype?v=' + encodeURIComponent('{"__proto__":{"polluted":true}}'));
    await browser.get('/set/toString?v=t');
    const id = browser.jar.get('session')!;
    assert.equal(
      await store.inner.get(`session:${id}`),
      '{"_permanent":true,"__proto__":{"polluted":true},"constructor":"c","prototype":{"__proto__":{"polluted":true}},"toString":"t"}',
    );
    assert.deepEqual(JSON.parse((await browser.get('/read')).text), JSON.parse('{"__proto__":{"polluted":true},"constructor":"c","prototype":{"__proto__":{"polluted":true}},"toString":"t"}'));
    assert.equal(prototypeKeys(), before);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('a stored value crafted with __proto__ loads as data and pollutes nothing', async () => {
    const { store, client } = await start();
    const id = 'E'.repeat(43);
    await store.inner.create(`session:${id}`, '{"__proto__":{"polluted":true},"a":{"__proto__":{"polluted":true}}}', 60_000);
    const reply = await client().get('/read', { cookie: `session=${id}` });
    assert.deepEqual(JSON.parse(reply.text), JSON.parse('{"__proto__":{"polluted":true},"a":{"__proto__":{"polluted":true}}}'));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('a concurrent merge keeps a __proto__ key (no prototype assignment on the merged dict)', async () => {
    const { client } = await start();
    const browser = client();
    await browser.get('/set/base');
    const cookie = browser.cookieHeader!;
    await Promise.all([
      browser.get('/json/__proto__?v=' + encodeURIComponent('{"x":1}'), { cookie }),
      browser.get('/set/other?v=2', { cookie }),
    ]);
    await sleep(10);
    const data = JSON.parse((await browser.get('/read', { cookie })).text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(data).sort(), ['__proto__', 'base', 'other']);
  });

  it('an unserializable value: a clear error naming the key, nothing written (not even the other keys)', async () => {
    const errors: unknown[] = [];
    const { store, client } = await start({}, (app) => app.on('error', (error) => errors.push(error)));
    const browser = client();
    await browser.get('/set/keep?v=1');
    const id = browser.jar.get('session')!;
    const reply = await browser.get('/bad');
    assert.equal(reply.status, 500);
    assert.ok(errors[0] instanceof SessionSerializationError);
    assert.equal(errors[0].path, 'fn');
    assert.equal(await store.inner.get(`session:${id}`), '{"_permanent":true,"keep":"1"}');
  });

  it('maxSize: an oversized session fails with SessionTooLargeError and the stored one is untouched', async () => {
    const errors: unknown[] = [];
    const { store, client } = await start({ maxSize: 200 }, (app) => app.on('error', (error) => errors.push(error)));
    const browser = client();
    await browser.get('/set/keep?v=1');
    const id = browser.jar.get('session')!;
    const reply = await browser.get(`/set/big?v=${'x'.repeat(300)}`);
    assert.equal(reply.status, 500);
    assert.deepEqual(reply.setCookies, []);
    assert.ok(errors[0] instanceof SessionTooLargeError);
    assert.equal(await store.inner.get(`session:${id}`), '{"_permanent":true,"keep":"1"}');
  });
});

describe('cookie hygiene', () => {
  it('__Host- and __Secure- names are checked at start-up', () => {
    const store = new MemoryStore();
    const fails = (cookie: object, option: string) =>
      assert.throws(() => qsession({ store, cookie }), (e: unknown) => e instanceof SessionOptionsError && e.option === option, JSON.stringify(cookie));
    fails({ name: '__Host-sid' }, 'cookie.secure');
    fails({ name: '__Host-sid', secure: 'auto' }, 'cookie.secure');
    fails({ name: '__Host-sid', secure: true, path: '/app' }, 'cookie.path');
    fails({ name: '__Host-sid', secure: true, domain: 'example.com' }, 'cookie.domain');
    fails({ name: '__Secure-sid' }, 'cookie.secure');
    fails({ name: '__secure-sid', secure: false }, 'cookie.secure');
    assert.doesNotThrow(() => qsession({ store, cookie: { name: '__Host-sid', secure: true } }));
    assert.doesNotThrow(() => qsession({ store, cookie: { name: '__Secure-sid', secure: true, path: '/app', domain: 'example.com' } }));
  });

  it('a cookie that could exceed 4096 bytes is refused at start-up', () => {
    assert.throws(() => qsession({ cookie: { path: '/' + 'p'.repeat(3900) } }), /over the 4096/);
    assert.throws(() => qsession({ cookie: { name: 'n'.repeat(3000), path: '/' + 'p'.repeat(1000) } }), (e: unknown) => e instanceof SessionOptionsError);
    assert.doesNotThrow(() => qsession({ cookie: { path: '/' + 'p'.repeat(3000) } }));
  });

  it('a __Host- cookie over TLS carries Secure and Path=/ and no Domain', async () => {
    const { client } = await start({ cookie: { name: '__Host-sid', secure: true } }, (app) => {
      app.proxy = true;
    });
    const reply = await client().get('/set/a', { headers: { 'x-forwarded-proto': 'https' } });
    const cookie = sessionCookie(reply.setCookies, '__Host-sid');
    assert.match(cookie?.value ?? '', ID);
    assert.ok(cookie!.attributes.has('secure'));
    assert.equal(cookie!.attributes.get('path'), '/');
    assert.ok(!cookie!.attributes.has('domain'));
  });

  it('Vary: Cookie on responses that depend on the session, not on the others', async () => {
    const { client } = await start();
    const anonymous = await client().get('/read');
    assert.equal(anonymous.headers.vary, undefined);
    const browser = client();
    const created = await browser.get('/set/a');
    assert.match(String(created.headers.vary), /Cookie/);
    const read = await browser.get('/read');
    assert.deepEqual(read.setCookies, []);
    assert.match(String(read.headers.vary), /Cookie/);
    const stale = await client().get('/read', { cookie: `session=${'F'.repeat(43)}` });
    assert.match(String(stale.headers.vary), /Cookie/);
  });
});
