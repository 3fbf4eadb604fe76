/**
 * Issue 24 part 3, over real HTTP: `cookie: { secure: 'auto', partitioned: true }` never sends
 * `Partitioned` without `Secure` (browsers drop such a cookie), and `app.keys` without `keys`
 * is said once (the cookie is signed with `keys` only; see docs/security.md).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import Koa from 'koa';
import { qsession, session, type QSessionMiddleware, type QSessionOptions } from 'koa-qsession';
import { Client, parseSetCookie, serve, type Served } from '../support/http.js';

const served: Served[] = [];
const middlewares: QSessionMiddleware[] = [];
after(async () => {
  await Promise.all(served.map((s) => s.close()));
  await Promise.all(middlewares.map((m) => m.close()));
});

async function startApp(options: QSessionOptions, setup: (app: Koa) => void = () => undefined): Promise<Client> {
  const app = new Koa();
  setup(app);
  const sessions = qsession({ type: 'memory', ...options });
  middlewares.push(sessions);
  app.use(sessions);
  app.use((ctx) => {
    session.user = 'ann';
    ctx.body = 'ok';
  });
  const server = await serve(app);
  served.push(server);
  return new Client(server.url);
}

function attributesOf(setCookies: string[]): Map<string, string> {
  const line = setCookies.find((l) => l.startsWith('session='));
  assert.ok(line, 'a session cookie was set');
  return parseSetCookie(line).attributes;
}

describe('cookie attributes', () => {
  it("secure: 'auto' with partitioned: over plain HTTP neither Secure nor Partitioned; behind a TLS proxy both", async () => {
    const client = await startApp({ cookie: { secure: 'auto', partitioned: true, sameSite: 'lax' } }, (app) => {
      app.proxy = true;
    });
    const plain = attributesOf((await client.get('/')).setCookies);
    assert.equal(plain.has('secure'), false);
    assert.equal(plain.has('partitioned'), false, 'no Partitioned without Secure');
    const proxied = attributesOf((await new Client(client.base).get('/', { headers: { 'x-forwarded-proto': 'https' } })).setCookies);
    assert.equal(proxied.has('secure'), true);
    assert.equal(proxied.has('partitioned'), true);
  });

  it('app.keys without keys: one process warning at the first cookie; with keys, none', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => {
      if ((warning as { code?: string }).code === 'QSESSION_APP_KEYS_UNUSED') warnings.push(warning);
    };
    process.on('warning', onWarning);
    try {
      const unsigned = await startApp({}, (app) => {
        app.keys = ['an app key of some length'];
      });
      await unsigned.get('/');
      await new Client(unsigned.base).get('/');
      const signed = await startApp({ keys: ['a session key of 16+ bytes'] }, (app) => {
        app.keys = ['an app key of some length'];
      });
      await signed.get('/');
      const noKeys = await startApp({});
      await noKeys.get('/');
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!.message, /app\.keys is set but the session cookie is not signed.*qsession\(\{ keys: app\.keys \}\)/);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
