/**
 * What Koa, koa-session and express-session users reach for (issue 15), over real HTTP, on the
 * memory store and on a throwaway Redis. The Redis app is configured as `{ redis: url }` without
 * `type`: the store is inferred (it used to be the memory store, silently).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Koa from 'koa';
import { qsession, session, SessionUsageError, type QSessionMiddleware, type QSessionOptions } from 'koa-qsession';
import { Client, parseSetCookie, serve, type Reply, type Served } from '../support/http.js';
import { startStandalone, type Standalone } from '../support/redis.js';

const DAY = 24 * 3600 * 1000;
const served: Served[] = [];
const middlewares: QSessionMiddleware[] = [];
after(async () => {
  await Promise.all(served.map((s) => s.close()));
  await Promise.all(middlewares.map((m) => m.close()));
});

interface IdiomApp {
  readonly sessions: QSessionMiddleware;
  readonly url: string;
  /** Errors Koa reported (`app.on('error')`) and errors caught in timers after the response. */
  readonly errors: unknown[];
  readonly late: unknown[];
  client(): Client;
  /** The stored text of a session, or null. */
  stored(id: string): Promise<string | null>;
}

/** Routes that do what a koa-session / express-session user writes. */
async function startApp(options: QSessionOptions): Promise<IdiomApp> {
  const app = new Koa();
  app.silent = true;
  const errors: unknown[] = [];
  const late: unknown[] = [];
  app.on('error', (error: unknown) => errors.push(error));
  // A loaded CI machine: give the store time, and open the Redis connection before the first request.
  const sessions = qsession({ storeTimeout: 5000, ...options });
  middlewares.push(sessions);
  await (sessions.store as { connect?: () => Promise<unknown> }).connect?.();
  app.use(sessions);
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
      case 'logout':
        ctx.session = null;
        ctx.body = 'bye';
        return;
      case 'replace':
        ctx.session = { replaced: 'yes' };
        ctx.body = 'ok';
        return;
      case 'assign':
        (ctx as { session: unknown }).session = arg === 'number' ? 5 : arg === 'array' ? [1] : undefined;
        return;
      case 'fail': {
        session.failures = ((session.failures as number | undefined) ?? 0) + 1;
        if (arg === 'plain') throw new Error('unexpected');
        ctx.throw(Number(arg), 'no');
        return;
      }
      case 'later':
        setTimeout(() => {
          try {
            session.late = 1;
            late.push('accepted');
          } catch (error) {
            late.push(error);
          }
          try {
            late.push(`read:${String(session.get('user'))}`);
          } catch (error) {
            late.push(error);
          }
        }, 30);
        ctx.body = 'ok';
        return;
      case 'undefined':
        session.profile = { email: undefined, name: 'ann', tags: ['a', undefined, 'b'], deep: { gone: undefined } };
        session.top = undefined;
        ctx.body = 'ok';
        return;
      case 'identity':
        ctx.body = JSON.stringify({ same: ctx.session === session, again: ctx.session === ctx.session });
        return;
      default:
        ctx.status = 404;
    }
  });
  const server = await serve(app);
  served.push(server);
  return {
    sessions,
    url: server.url,
    errors,
    late,
    client: () => new Client(server.url),
    stored: async (id) => {
      const value = await sessions.store.get(`session:${id}`);
      return value === null ? null : Buffer.from(value).toString('utf8');
    },
  };
}

const sessionCookie = (reply: Reply) => reply.setCookies.map(parseSetCookie).find((c) => c.name === 'session');

let redis: Standalone;
before(async () => {
  redis = await startStandalone();
});
after(() => redis.cleanup());

for (const [storeName, options] of [
  ['memory', () => ({})],
  ['redis (inferred from `redis: url`)', () => ({ redis: redis.server.url })],
] as const) {
  describe(`koa-session idioms over HTTP, ${storeName} store`, () => {
    let app: IdiomApp;
    before(async () => {
      app = await startApp(options());
    });

    it('ctx.session = null destroys the session: deleted from the store, cookie cleared', async () => {
      const browser = app.client();
      await browser.get('/set/user?v=ann');
      const id = browser.jar.get('session')!;
      assert.notEqual(await app.stored(id), null);
      const reply = await browser.get('/logout');
      assert.equal(reply.status, 200);
      assert.equal(await app.stored(id), null, 'the session is gone from the store');
      const cookie = sessionCookie(reply);
      assert.ok(cookie, 'a clearing cookie');
      assert.equal(cookie.value, '');
      assert.equal((await browser.get('/read', { cookie: `session=${id}` })).text, '{}', 'the old cookie opens nothing');
    });

    it('ctx.session = { ... } replaces the data with that object; anything else is a SessionUsageError', async () => {
      const browser = app.client();
      await browser.get('/set/user?v=ann');
      await browser.get('/replace');
      assert.equal((await browser.get('/read')).text, '{"replaced":"yes"}');
      for (const bad of ['number', 'array', 'undefined']) {
        app.errors.length = 0;
        assert.equal((await browser.get(`/assign/${bad}`)).status, 500);
        assert.ok(app.errors[0] instanceof SessionUsageError, bad);
        assert.match((app.errors[0] as Error).message, /null .*or a plain object/);
      }
      assert.equal((await browser.get('/read')).text, '{"replaced":"yes"}');
    });

    it('a 4xx thrown after a change keeps it (cookie included for a new session); a 5xx or a plain Error drops it', async () => {
      const browser = app.client();
      const first = await browser.get('/fail/401');
      assert.equal(first.status, 401);
      const cookie = sessionCookie(first);
      assert.ok(cookie?.value, 'the new session gets its cookie with the 401');
      assert.equal((await browser.get('/read')).text, '{"failures":1}');
      assert.equal((await browser.get('/fail/403')).status, 403);
      assert.equal((await browser.get('/read')).text, '{"failures":2}');
      assert.equal((await browser.get('/fail/500')).status, 500);
      assert.equal((await browser.get('/read')).text, '{"failures":2}', '5xx: dropped');
      assert.equal((await browser.get('/fail/plain')).status, 500);
      assert.equal((await browser.get('/read')).text, '{"failures":2}', 'unexpected exception: dropped');
      const id = browser.jar.get('session')!;
      assert.match((await app.stored(id))!, /"failures":2/);
    });

    it('a change after the response (timer) is a SessionUsageError; reading stays allowed', async () => {
      const browser = app.client();
      await browser.get('/set/user?v=ann');
      app.late.length = 0;
      assert.equal((await browser.get('/later')).status, 200);
      await sleep(80);
      assert.ok(app.late[0] instanceof SessionUsageError, `got ${String(app.late[0])}`);
      assert.match((app.late[0] as Error).message, /after its request was committed/);
      assert.equal(app.late[1], 'read:ann');
      assert.equal((await browser.get('/read')).text, '{"user":"ann"}');
    });

    it('undefined anywhere in a value is dropped as JSON does (null inside arrays)', async () => {
      const browser = app.client();
      assert.equal((await browser.get('/undefined')).status, 200);
      assert.equal((await browser.get('/read')).text, '{"profile":{"name":"ann","tags":["a",null,"b"],"deep":{}}}');
    });

    it('ctx.session === session inside the request', async () => {
      const reply = await app.client().get('/identity');
      assert.deepEqual(JSON.parse(reply.text), { same: true, again: true });
    });
  });
}
