/**
 * Setups that used to fail quietly (issue 15): two session middlewares on one request, and a Secure
 * cookie over plain HTTP (a 500 after the session was stored). Over real HTTP, memory and Redis.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import compose from 'koa-compose';
import { MemoryStore, qsession, session, SessionUsageError, type QSessionMiddleware, type QSessionOptions } from 'koa-qsession';
import { Client, serve, type Served } from '../support/http.js';
import { startStandalone, type Standalone } from '../support/redis.js';

const served: Served[] = [];
const middlewares: QSessionMiddleware[] = [];
after(async () => {
  await Promise.all(served.map((s) => s.close()));
  await Promise.all(middlewares.map((m) => m.close()));
});

let redis: Standalone;
before(async () => {
  redis = await startStandalone();
});
after(() => redis.cleanup());

async function sessions(options: QSessionOptions): Promise<QSessionMiddleware> {
  const middleware = qsession({ storeTimeout: 5000, ...options });
  middlewares.push(middleware);
  await (middleware.store as { connect?: () => Promise<unknown> }).connect?.();
  return middleware;
}

/** An app whose errors are collected; `setup` adds its middleware. */
async function start(setup: (app: Koa) => void | Promise<void>, proxy = false) {
  const app = new Koa({ proxy });
  app.silent = true;
  const errors: unknown[] = [];
  app.on('error', (error: unknown) => errors.push(error));
  await setup(app);
  const server = await serve(app);
  served.push(server);
  return { errors, client: () => new Client(server.url) };
}

const route = async (ctx: Koa.Context) => {
  if (ctx.path === '/set') session.user = 'ann';
  ctx.body = JSON.stringify(session.toJSON());
};

for (const [storeName, options] of [
  ['memory', (): QSessionOptions => ({})],
  ['redis', (): QSessionOptions => ({ redis: redis.server.url })],
] as const) {
  describe(`misconfigurations caught over HTTP, ${storeName} store`, () => {
    it('a sub-app mounting its own qsession(): a SessionUsageError naming the cause, nothing stored', async () => {
      const outer = await sessions(options());
      const inner = await sessions(options());
      const sub = new Koa();
      sub.use(inner);
      sub.use(route);
      const { errors, client } = await start((app) => {
        app.use(outer);
        app.use(compose(sub.middleware)); // what koa-mount does: the sub-app's middleware on the same ctx
      });
      const reply = await client().get('/set');
      assert.equal(reply.status, 500);
      assert.deepEqual(reply.setCookies, []);
      assert.ok(errors[0] instanceof SessionUsageError);
      assert.match((errors[0] as Error).message, /two qsession\(\) middlewares ran on one request \(a sub-app mounting its own\?\)/);
    });

    it('the same middleware reached twice: also an error', async () => {
      const only = await sessions(options());
      const { errors, client } = await start((app) => {
        app.use(only);
        app.use(only);
        app.use(route);
      });
      assert.equal((await client().get('/set')).status, 500);
      assert.match((errors[0] as Error).message, /the same qsession\(\) middleware ran twice/);
    });

    it('one qsession() in the parent reaches the mounted sub-app', async () => {
      const outer = await sessions(options());
      const sub = new Koa();
      sub.use(route);
      const { client } = await start((app) => {
        app.use(outer);
        app.use(compose(sub.middleware));
      });
      const browser = client();
      await browser.get('/set');
      assert.equal((await browser.get('/read')).text, '{"user":"ann"}');
    });

    it('cookie.secure: true over plain HTTP: a clear error before anything is stored', async () => {
      const secure = await sessions({ ...options(), cookie: { secure: true } });
      const keysBefore = storeName === 'redis' ? await redis.server.cli('DBSIZE') : '';
      const { errors, client } = await start((app) => {
        app.use(secure);
        app.use(route);
      });
      const reply = await client().get('/set');
      assert.equal(reply.status, 500);
      assert.deepEqual(reply.setCookies, []);
      assert.ok(errors[0] instanceof SessionUsageError, String(errors[0]));
      assert.match((errors[0] as Error).message, /plain HTTP.*nothing was stored.*app\.proxy.*'auto'/s);
      if (storeName === 'redis') assert.equal(await redis.server.cli('DBSIZE'), keysBefore, 'no orphaned entry');
      else assert.equal((secure.store as MemoryStore).size, 0, 'no orphaned entry');
      // A request that only reads is not affected.
      assert.equal((await client().get('/read')).status, 200);
    });

    it('cookie.secure: true behind a TLS proxy with app.proxy: works', async () => {
      const secure = await sessions({ ...options(), cookie: { secure: true } });
      const { client } = await start((app) => {
        app.use(secure);
        app.use(route);
      }, true);
      const reply = await client().get('/set', { headers: { 'x-forwarded-proto': 'https' } });
      assert.equal(reply.status, 200);
      assert.match(reply.setCookies[0]!, /; secure/i);
    });
  });
}
