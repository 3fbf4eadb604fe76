import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, describe, it } from 'node:test';
import type { SessionEventMap } from 'koa-qsession';
import { assertCleared, closeAll, ID, sessionCookie, start } from './app.js';

after(closeAll);

type Mismatch = SessionEventMap['pin-mismatch'][0];
const label = (id: string) => createHash('sha256').update(id).digest('base64url').slice(0, 12);

describe('session pinning (hijackProtection)', () => {
  it('stores the address as Quart does, byte for byte', async () => {
    const { store, client } = await start({ hijackProtection: true });
    const browser = client();
    await browser.get('/set/foo?v=bar');
    const id = browser.jar.get('session')!;
    assert.equal(await store.inner.get(`session:${id}`), '{"_permanent":true,"_addr":"127.0.0.1","foo":"bar"}');
    assert.equal((await browser.get('/read')).text, '{"foo":"bar"}', '_addr is not data');
  });

  it('a stolen cookie replayed from another address: attacker gets an anonymous session, the victim\'s is deleted', async () => {
    const { store, sessions, client } = await start({ hijackProtection: true });
    const events: Mismatch[] = [];
    sessions.on('pin-mismatch', (event) => events.push(event));
    const victim = client('127.0.0.1');
    await victim.get('/set/user?v=ann');
    const stolen = victim.jar.get('session')!;

    const attacker = client('127.0.0.2');
    const reply = await attacker.get('/read', { cookie: `session=${stolen}` });
    assert.equal(reply.text, '{}', 'the attacker sees nothing');
    assertCleared(reply.setCookies);
    assert.equal(await store.inner.get(`session:${stolen}`), null, 'Quart deletes the session: the victim is logged out too');
    assert.deepEqual(events, [{ session: label(stolen), expected: '127.0.0.1', actual: '127.0.0.2' }]);
    assert.ok(!JSON.stringify(events).includes(stolen), 'the id never appears in clear');

    assert.equal((await victim.get('/read')).text, '{}', 'the victim starts over');
  });

  it('the fresh session after a mismatch gets a new id and is pinned to the new address', async () => {
    const { store, client } = await start({ hijackProtection: true });
    const victim = client('127.0.0.1');
    await victim.get('/set/user?v=ann');
    const stolen = victim.jar.get('session')!;
    const attacker = client('127.0.0.2');
    const reply = await attacker.get('/set/x?v=1', { cookie: `session=${stolen}` });
    const id = sessionCookie(reply.setCookies)?.value ?? '';
    assert.match(id, ID);
    assert.notEqual(id, stolen);
    assert.equal(await store.inner.get(`session:${id}`), '{"_permanent":true,"_addr":"127.0.0.2","x":"1"}');
  });

  it('the same client keeps its session across requests', async () => {
    const { client } = await start({ hijackProtection: true });
    const browser = client('127.0.0.3');
    await browser.get('/set/a?v=1');
    await browser.get('/set/b?v=2');
    assert.equal((await browser.get('/read')).text, '{"a":"1","b":"2"}');
  });

  it('subnet pinning lets a client move inside its /24', async () => {
    const { client } = await start({ hijackProtection: true, pinning: 'subnet' });
    const home = client('127.0.0.1');
    await home.get('/set/a?v=1');
    const moved = client('127.0.0.77');
    assert.equal((await moved.get('/read', { cookie: home.cookieHeader })).text, '{"a":"1"}');
  });

  it('a session stored without _addr (pinning was off) adopts the current address at once', async () => {
    const plain = await start();
    const browser = plain.client();
    await browser.get('/set/a?v=1');
    const id = browser.jar.get('session')!;
    const value = (await plain.store.inner.get(`session:${id}`))!;
    const pinned = await start({ hijackProtection: true });
    await pinned.store.inner.create(`session:${id}`, value, 60_000);
    const first = pinned.client('127.0.0.5');
    assert.equal((await first.get('/read', { cookie: `session=${id}` })).text, '{"a":"1"}');
    assert.equal(await pinned.store.inner.get(`session:${id}`), '{"_permanent":true,"_addr":"127.0.0.5","a":"1"}');
    const other = pinned.client('127.0.0.6');
    assert.equal((await other.get('/read', { cookie: `session=${id}` })).text, '{}');
  });

  describe('behind a reverse proxy (reverseProxy: X-Forwarded-For)', () => {
    it('a spoofed leftmost X-Forwarded-For entry does not change the pinned address', async () => {
      const { store, client } = await start({ hijackProtection: true, reverseProxy: true });
      const browser = client();
      await browser.get('/set/a?v=1', { headers: { 'x-forwarded-for': '203.0.113.9' } });
      const id = browser.jar.get('session')!;
      assert.match(await store.inner.get(`session:${id}`) as string, /"_addr":"203.0.113.9"/);
      // The attacker writes whatever it likes on the left; the proxy appends the real address.
      const spoofed = await browser.get('/read', { headers: { 'x-forwarded-for': '6.6.6.6, 203.0.113.9' } });
      assert.equal(spoofed.text, '{"a":"1"}', 'the victim, with junk on the left, is still recognised');
      const attacker = await browser.get('/read', { headers: { 'x-forwarded-for': '203.0.113.9, 198.51.100.7' } });
      assert.equal(attacker.text, '{}', 'writing the victim\'s address on the left does not help the attacker');
    });

    it('counts proxyHops trusted proxies from the right', async () => {
      const { store, client } = await start({ hijackProtection: true, reverseProxy: true, proxyHops: 2 });
      const browser = client();
      await browser.get('/set/a', { headers: { 'x-forwarded-for': '6.6.6.6, 203.0.113.9, 10.0.0.2' } });
      assert.match(await store.inner.get(`session:${browser.jar.get('session')!}`) as string, /"_addr":"203.0.113.9"/);
      const lb = await browser.get('/read', { headers: { 'x-forwarded-for': '1.1.1.1, 203.0.113.9, 10.0.0.3' } });
      assert.equal(lb.text, '{"a":"x"}', 'another load-balancer node is fine');
    });

    it('too few entries, garbage or no header: an unverified address that matches nothing (fails closed), never an exception', async () => {
      const { store, client } = await start({ hijackProtection: true, reverseProxy: true, proxyHops: 2 });
      for (const xff of ['203.0.113.9', 'garbage, 10.0.0.2', '::ffff:not-ip, 1.1.1.1', ', ,', 'x'.repeat(6000) + ', 10.0.0.2', undefined]) {
        const browser = client();
        const headers: Record<string, string> = xff === undefined ? {} : { 'x-forwarded-for': xff };
        const reply = await browser.get('/set/a', { headers });
        assert.equal(reply.status, 200);
        assert.match(await store.inner.get(`session:${browser.jar.get('session')!}`) as string, /"_addr":"unverified"/, String(xff).slice(0, 30));
        assert.equal((await browser.get('/read', { headers })).text, '{}', 'not even the same unverified request matches');
      }
    });

    it('::ffff:1.2.3.4 and 1.2.3.4 are the same client', async () => {
      const { client } = await start({ hijackProtection: true, reverseProxy: true });
      const browser = client();
      await browser.get('/set/a?v=1', { headers: { 'x-forwarded-for': '::ffff:198.51.100.4' } });
      assert.equal((await browser.get('/read', { headers: { 'x-forwarded-for': '198.51.100.4' } })).text, '{"a":"1"}');
    });
  });

  it('without reverseProxy, Koa\'s ctx.ip decides (app.proxy + maxIpsCount)', async () => {
    const { client } = await start({ hijackProtection: true }, (app) => {
      app.proxy = true;
      app.maxIpsCount = 1;
    });
    const browser = client();
    await browser.get('/set/a?v=1', { headers: { 'x-forwarded-for': '6.6.6.6, 203.0.113.9' } });
    assert.equal((await browser.get('/read', { headers: { 'x-forwarded-for': '7.7.7.7, 203.0.113.9' } })).text, '{"a":"1"}');
    assert.equal((await browser.get('/read', { headers: { 'x-forwarded-for': '203.0.113.10' } })).text, '{}');
  });

  it('without app.proxy, X-Forwarded-For is ignored: the socket address is pinned', async () => {
    const { client } = await start({ hijackProtection: true });
    const browser = client();
    await browser.get('/set/a?v=1', { headers: { 'x-forwarded-for': '203.0.113.9' } });
    assert.equal((await browser.get('/read', { headers: { 'x-forwarded-for': '198.51.100.1' } })).text, '{"a":"1"}');
  });

  it('getClientIp overrides everything; a non-address falls back to the socket', async () => {
    let ip: string | undefined = '192.0.2.1';
    const { store, client } = await start({ hijackProtection: true, reverseProxy: true, getClientIp: () => ip });
    const browser = client();
    await browser.get('/set/a?v=1', { headers: { 'x-forwarded-for': '203.0.113.9' } });
    const id = browser.jar.get('session')!;
    assert.match(await store.inner.get(`session:${id}`) as string, /"_addr":"192\.0\.2\.1"/);
    ip = 'nonsense';
    assert.equal((await browser.get('/read')).text, '{}', 'falls back to 127.0.0.1, which differs');
  });

  it('pinning off: no address is stored and none is compared', async () => {
    const { store, client } = await start();
    const browser = client('127.0.0.1');
    await browser.get('/set/a?v=1');
    const id = browser.jar.get('session')!;
    assert.equal(await store.inner.get(`session:${id}`), '{"_permanent":true,"a":"1"}');
    assert.equal((await client('127.0.0.2').get('/read', { cookie: `session=${id}` })).text, '{"a":"1"}');
  });
});
