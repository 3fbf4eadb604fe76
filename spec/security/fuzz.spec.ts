// Property-based fuzzing of what a client controls: the Cookie header, X-Forwarded-For, and the
// keys a handler may be asked to store. Bounded runs, so `npm test` stays fast.
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { after, describe, it } from 'node:test';
import Cookies from 'cookies';
import fc from 'fast-check';
import { jsonSerializer, SessionUsageError } from 'koa-qsession';
import { Lifecycle } from '../../src/internal.js';
import { normalizeAddress } from '../../src/core/address.js';
import { forwardedFor } from '../../src/koa/client-address.js';
import { readCookieValue } from '../../src/koa/cookie.js';
import { createEvents } from '../../src/core/events.js';
import { resolveOptions } from '../../src/internal.js';
import { createSigner } from '../../src/core/signing.js';
import { CheckedStore, closeAll, start } from './app.js';

after(closeAll);

const RUNS = 300;
const prototypeSnapshot = () => Object.getOwnPropertyNames(Object.prototype).sort().join();
const PROTOTYPE = prototypeSnapshot();
const assertNoPollution = () => {
  assert.equal(prototypeSnapshot(), PROTOTYPE);
  for (const name of ['polluted', 'isAdmin', 'x']) assert.equal(({} as Record<string, unknown>)[name], undefined);
};

/** Characters a client can put in a header value (what Node's HTTP client lets through). */
const headerSafe = (text: string) => text.replace(/[^\t\x20-\x7e\x80-\xff]/g, '');

const validId = 'G'.repeat(43);
const cookieHeader = fc
  .array(
    fc.oneof(
      fc.constantFrom('session=', 'session', '=', ';', '; ', '"', ',', ' ', '\t', validId, `${validId}.`, 'session=%00', '__proto__='),
      fc.string({ maxLength: 60 }),
      fc.string({ unit: 'binary', maxLength: 20 }),
      fc.stringMatching(/^[A-Za-z0-9_-]{40,46}$/),
    ),
    { maxLength: 12 },
  )
  .map((parts) => headerSafe(parts.join('')));

const forwarded = fc
  .array(
    fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended(), fc.string({ maxLength: 30 }), fc.constantFrom('', ' ', ',', 'unknown', '::ffff:1.2.3.4', '[::1]', '1.2.3.4:80')),
    { maxLength: 8 },
  )
  .map((parts) => headerSafe(parts.join(',')));

const sessionKey = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 10 }),
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', 'then', 'get', 'id', '_permanent', '_addr', '_created', ''),
);

describe('fuzz', () => {
  it('cookie headers: the reader (ctx.cookies) and the signer never throw and only return bounded values', () => {
    const signer = createSigner([Buffer.from('k'.repeat(32))]);
    fc.assert(
      fc.property(cookieHeader, (header) => {
        // What Koa's ctx.cookies is: the `cookies` package over the request.
        const cookies = new Cookies({ headers: { cookie: header } } as never, {} as never);
        const value = readCookieValue(cookies, 'session');
        assert.ok(value === undefined || (typeof value === 'string' && value.length <= 256));
        if (value !== undefined) signer.unsign(value);
      }),
      { numRuns: 2000 },
    );
  });

  it('cookie headers over HTTP (signed and not): never a crash, never an invalid key in the store', async () => {
    for (const options of [{}, { keys: ['k'.repeat(32)], hijackProtection: true }]) {
      const { store, client } = await start(options);
      await fc.assert(
        fc.asyncProperty(cookieHeader, async (cookie) => {
          const reply = await client().get('/set/a?v=1', { cookie });
          assert.equal(reply.status, 200);
          assert.deepEqual(store.badKeys, []);
          assertNoPollution();
        }),
        { numRuns: RUNS / 2 },
      );
    }
  });

  it('X-Forwarded-For: the pinned address is always a real IP, never an exception', async () => {
    fc.assert(
      fc.property(forwarded, fc.integer({ min: 1, max: 4 }), (header, hops) => {
        const address = normalizeAddress(forwardedFor(header, hops));
        assert.ok(address === undefined || isIP(address) !== 0);
      }),
      { numRuns: 2000 },
    );
    const { store, client } = await start({ hijackProtection: true, reverseProxy: true, proxyHops: 2 });
    await fc.assert(
      fc.asyncProperty(forwarded, async (xff) => {
        const browser = client();
        const reply = await browser.get('/set/a?v=1', { headers: { 'x-forwarded-for': xff } });
        assert.equal(reply.status, 200);
        const stored = JSON.parse((await store.inner.get(`session:${browser.jar.get('session')!}`)) as string) as { _addr: string };
        assert.ok(isIP(stored._addr) !== 0 || stored._addr === 'unverified', `${xff} -> ${stored._addr}`);
        assert.deepEqual(store.badKeys, []);
      }),
      { numRuns: RUNS / 2 },
    );
  });

  it('session keys: any key round-trips through the store and the serializer; nothing pollutes Object.prototype', async () => {
    const store = new CheckedStore();
    const lifecycle = new Lifecycle({ options: resolveOptions({}), store, serializer: jsonSerializer, events: createEvents() });
    const ok = { isStatic: false, failed: false };
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.tuple(sessionKey, fc.jsonValue({ maxDepth: 2 })), { selector: ([key]) => key, maxLength: 6 }), async (entries) => {
        const record = await lifecycle.open(undefined);
        const expected: Record<string, unknown> = Object.create(null);
        for (const [key, value] of entries) {
          try {
            record.session.set(key, value);
            expected[key] = value;
          } catch (error) {
            // Only Quart's metadata names are refused, with a clear usage error.
            assert.ok(error instanceof SessionUsageError && ['_permanent', '_addr', '_created'].includes(key), String(error));
          }
        }
        const action = await lifecycle.commit(record, ok);
        if (Object.keys(expected).length === 0) return;
        assert.equal(action.kind, 'set');
        const reopened = await lifecycle.open(record.id);
        assert.deepEqual(JSON.parse(JSON.stringify(reopened.session.toJSON())), JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(expected)))));
        assert.deepEqual(reopened.session.keys().sort(), Object.keys(expected).sort());
        assertNoPollution();
        assert.deepEqual(store.badKeys, []);
      }),
      { numRuns: RUNS },
    );
  });
});
