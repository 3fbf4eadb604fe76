import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { fromQuartConfig, qsession, SessionOptionsError } from 'koa-qsession';
import { createSigner } from '../../src/core/signing.js';
import { assertCleared, CheckedStore, closeAll, ID, sessionCookie, start } from './app.js';

after(closeAll);

const OLD = 'old-key-0123456789abcdef';
const NEW = 'new-key-fedcba9876543210';
const sig = (key: string, id: string) => createHmac('sha256', key).update(id).digest('base64url');

describe('signed cookies (keys)', () => {
  it('the cookie is id.signature, HMAC-SHA256 base64url, in one cookie', async () => {
    const { store, client } = await start({ keys: [NEW] });
    const reply = await client().get('/set/a?v=1');
    assert.equal(reply.setCookies.length, 1, 'no separate .sig cookie');
    const value = sessionCookie(reply.setCookies)!.value;
    const [id = '', signature] = value.split('.');
    assert.match(id, ID);
    assert.equal(signature, sig(NEW, id));
    assert.equal(await store.inner.get(`session:${id}`), '{"_permanent":true,"a":"1"}', 'the store key has the bare id');
  });

  it('a wrong, missing or mangled signature gives a fresh session without a store call', async () => {
    const { store, client } = await start({ keys: [NEW] });
    const browser = client();
    await browser.get('/set/a?v=1');
    const [id = '', signature = ''] = browser.jar.get('session')!.split('.');
    const flipped = signature.slice(0, -2) + (signature.at(-2) === 'A' ? 'B' : 'A') + signature.at(-1);
    for (const forged of [id, `${id}.`, `${id}.${flipped}`, `${id}.${sig(OLD, id)}`, `${id}.${signature}x`, `${id}.${signature.slice(1)}`, `.${signature}`]) {
      store.reset();
      const reply = await client().get('/read', { cookie: `session=${forged}` });
      assert.equal(reply.text, '{}', forged);
      assert.deepEqual(store.calls, [], `no store call for ${forged}`);
      assertCleared(reply.setCookies);
    }
  });

  it('key rotation: users stay logged in and get their cookie back under the new key, every attribute intact', async () => {
    const store = new CheckedStore();
    const cookie = { name: 'sid', domain: 'example.test', path: '/', secure: true, sameSite: 'strict', httpOnly: true } as const;
    const https = { 'x-forwarded-proto': 'https' };
    const proxy = (app: { proxy: boolean }) => {
      app.proxy = true;
    };
    const before = await start({ store, keys: [OLD], cookie }, proxy);
    const browser = before.client();
    await browser.get('/set/user?v=ann', { headers: https });
    const oldCookie = browser.jar.get('sid')!;
    const id = oldCookie.split('.')[0]!;

    const rotated = await start({ store, keys: [NEW, OLD], cookie }, proxy);
    const again = rotated.client();
    const reply = await again.get('/read', { cookie: `sid=${oldCookie}`, headers: https });
    assert.equal(reply.text, '{"user":"ann"}', 'still logged in');
    const reissued = sessionCookie(reply.setCookies, 'sid');
    assert.ok(reissued, 'the cookie is re-issued');
    assert.equal(reissued.value, `${id}.${sig(NEW, id)}`);
    assert.equal(reissued.attributes.get('path'), '/');
    assert.equal(reissued.attributes.get('domain'), 'example.test');
    assert.equal(reissued.attributes.get('samesite'), 'strict');
    assert.ok(reissued.attributes.has('secure'));
    assert.ok(reissued.attributes.has('httponly'));
    assert.ok(Date.parse(reissued.attributes.get('expires')!) > Date.now() + 30 * 24 * 3600 * 1000);

    const next = await again.get('/read', { headers: https });
    assert.deepEqual(next.setCookies, [], 'a cookie under the first key is not re-issued');

    const retired = await start({ store, keys: [NEW], cookie }, proxy);
    assert.equal((await retired.client().get('/read', { cookie: `sid=${oldCookie}`, headers: https })).text, '{}', 'a removed key stops verifying');
    assert.equal((await retired.client().get('/read', { cookie: `sid=${again.jar.get('sid')}`, headers: https })).text, '{"user":"ann"}');
  });

  it('destroy() with a signed cookie: entry deleted, cookie cleared, the old cookie is anonymous', async () => {
    const { store, client } = await start({ keys: [NEW] });
    const browser = client();
    await browser.get('/set/user?v=ann');
    const old = browser.jar.get('session')!;
    const reply = await browser.get('/destroy');
    assertCleared(reply.setCookies);
    assert.equal(await store.inner.get(`session:${old.split('.')[0]}`), null);
    assert.equal((await client().get('/read', { cookie: `session=${old}` })).text, '{}');
  });

  for (const keys of [undefined, [NEW]]) {
    it(`session fixation ${keys ? 'with' : 'without'} signing: a planted id is never the victim's session id`, async () => {
      const { store, client } = await start(keys ? { keys } : {});
      // An unknown id, or a forged one, is never adopted.
      const unknown = 'A'.repeat(43);
      for (const planted of [unknown, `${unknown}.${sig(NEW, unknown).replace(/^./, '_')}`]) {
        const reply = await client().get('/set/a', { cookie: `session=${planted}` });
        const id = sessionCookie(reply.setCookies)!.value.split('.')[0];
        assert.notEqual(id, unknown);
        assert.equal(await store.inner.get(`session:${unknown}`), null);
      }
      // The attacker gets a real (signed) cookie of its own and plants it; login regenerates.
      const attacker = client();
      await attacker.get('/set/cart?v=1');
      const planted = attacker.jar.get('session')!;
      const victim = client();
      const login = await victim.get('/login/ann', { cookie: `session=${planted}` });
      const victimCookie = sessionCookie(login.setCookies)!.value;
      assert.notEqual(victimCookie.split('.')[0], planted.split('.')[0]);
      assert.equal(login.text, victimCookie.split('.')[0]);
      assert.equal((await attacker.get('/read')).text, '{}', 'the planted id is dead, and never held the victim\'s login');
    });
  }

  it('signing costs no extra store call and signs every Set-Cookie (rolling too)', async () => {
    const { store, client } = await start({ keys: [NEW], rolling: true });
    const browser = client();
    await browser.get('/set/a');
    store.reset();
    const reply = await browser.get('/read');
    // The calls of an unsigned rolling read (spec/koa/middleware.spec.ts): GETEX, then the retired-id check.
    assert.deepEqual(store.calls, ['get+touch', 'get']);
    const value = sessionCookie(reply.setCookies)!.value;
    assert.equal(value.split('.')[1], sig(NEW, value.split('.')[0]!));
  });

  it('the signer refuses other spellings of the same signature bytes', () => {
    const signer = createSigner([Buffer.from(NEW)]);
    const signed = signer.sign('A'.repeat(43));
    assert.deepEqual(signer.unsign(signed), { id: 'A'.repeat(43), rotated: false });
    const last = signed.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[(alphabet.indexOf(last) & ~3) + ((alphabet.indexOf(last) + 1) & 3)]!;
    assert.equal(signer.unsign(signed.slice(0, -1) + sibling), null);
    assert.equal(signer.unsign(''), null);
    assert.equal(signer.unsign('.'.repeat(44)), null);
  });

  it('keys are validated at start-up', () => {
    assert.throws(() => qsession({ keys: [] }), (e: unknown) => e instanceof SessionOptionsError && e.option === 'keys');
    assert.throws(() => qsession({ keys: ['short'] }), /"keys\[0\]" must be at least 16 bytes/);
    assert.throws(() => qsession({ keys: [NEW, 42 as unknown as string] }), /"keys\[1\]" must be a string or a Buffer/);
    assert.doesNotThrow(() => qsession({ keys: [Buffer.alloc(32, 1)] }));
  });

  it('fromQuartConfig: SESSION_USE_SIGNER with SECRET_KEY (and Flask\'s SECRET_KEY_FALLBACKS), pinning names', () => {
    const quart = { idFormat: 'uuid', quartPinning: 'socket' };
    assert.deepEqual(fromQuartConfig({ SESSION_USE_SIGNER: true, SECRET_KEY: NEW, SECRET_KEY_FALLBACKS: [OLD] }), { keys: [NEW, OLD], ...quart });
    assert.deepEqual(fromQuartConfig({ SESSION_USE_SIGNER: false, SECRET_KEY: NEW }), quart);
    assert.throws(() => fromQuartConfig({ SESSION_USE_SIGNER: true }), /"SECRET_KEY" must be set/);
    assert.deepEqual(fromQuartConfig({ SESSION_HIJACK_PROTECTION: true, SESSION_HIJACK_REVERSE_PROXY: true }),
      { hijackProtection: true, reverseProxy: true, idFormat: 'uuid', quartPinning: 'forwarded-for' });
    assert.deepEqual(fromQuartConfig({ SESSION_PROTECTION: true, SESSION_REVERSE_PROXY: false }), { hijackProtection: true, reverseProxy: false, ...quart });
    // Quart-Session 3.0's names win over the older ones.
    assert.deepEqual(fromQuartConfig({ SESSION_HIJACK_REVERSE_PROXY: true, SESSION_REVERSE_PROXY: false }), { reverseProxy: false, ...quart });
  });
});
