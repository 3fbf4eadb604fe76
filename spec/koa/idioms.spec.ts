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
        ctx.session = null as never; // typed Session for reading: see src/index.ts
        ctx.body = 'bye';
        return;
      case 'replace':
        ctx.session = { replaced: 'yes' } as never;
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
      case 'forget':
        session.user ??= 'ann';
        session.permanent = false;
        ctx.body = 'ok';
        return;
      case 'slow-forget':
        void session.user; // loaded before the other request saves
        await sleep(80);
        session.permanent = false;
        ctx.body = 'ok';
        return;
      case 'remember':
        session.permanent = true;
        ctx.body = 'ok';
        return;
      case 'remember-days':
        session.user ??= 'ann';
        session.cookie.maxAge = Number(arg) * DAY;
        ctx.body = 'ok';
        return;
      case 'session-cookie':
        session.cookie.maxAge = null;
        ctx.body = 'ok';
        return;
      case 'cookie':
        ctx.body = JSON.stringify({ permanent: session.permanent, cookie: session.cookie });
        return;
      case 'touch':
        session.touch();
        ctx.body = 'ok';
        return;
      case 'set-save':
        session[arg!] = ctx.query.v ?? 'x';
        session.save();
        ctx.body = 'ok';
        return;
      case 'save':
        session.save();
        ctx.body = 'ok';
        return;
      case 'reload': {
        session.user = 'unsaved';
        const before = session.user;
        await session.reload();
        ctx.body = JSON.stringify({ before, after: session.toJSON() });
        return;
      }
      case 'foreign':
        try {
          if (arg === 'save-callback') (session.save as (cb: unknown) => void)(() => undefined);
          else if (arg === 'cookie-secure') (session.cookie as unknown as { secure: boolean }).secure = true;
          else if (arg === 'set-maxAge') session.maxAge = 1000;
          else ctx.body = String(session[arg!]);
          ctx.body ??= 'accepted';
        } catch (error) {
          ctx.body = `${(error as Error).name}: ${(error as Error).message}`;
        }
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

describe("koa-session idioms with Koa's own context storage (new Koa({ asyncLocalStorage: true }))", () => {
  it('ctx.session === session, and ctx.session = null destroys', async () => {
    const app = new Koa({ asyncLocalStorage: true });
    const sessions = qsession();
    middlewares.push(sessions);
    app.use(sessions);
    app.use((ctx) => {
      if (ctx.path === '/set') session.user = 'ann';
      if (ctx.path === '/logout') ctx.session = null as never;
      ctx.body = JSON.stringify({ same: ctx.session === session, data: session.toJSON() });
    });
    const server = await serve(app);
    served.push(server);
    const browser = new Client(server.url);
    assert.deepEqual(JSON.parse((await browser.get('/set')).text), { same: true, data: { user: 'ann' } });
    await browser.get('/logout');
    assert.deepEqual(JSON.parse((await browser.get('/read')).text), { same: true, data: {} });
    assert.equal(browser.jar.size, 0);
  });
});

describe('ctx.session read from another request', () => {
  it("a ctx kept past its request gives that request's session, never the current one", async () => {
    const app = new Koa();
    const sessions = qsession();
    middlewares.push(sessions);
    app.use(sessions);
    let kept: Koa.Context | undefined;
    app.use((ctx) => {
      if (ctx.path === '/keep') {
        session.user = String(ctx.query.user);
        kept = ctx;
      }
      ctx.body = JSON.stringify({ mine: session.get('user') ?? null, kept: kept?.session.get('user') ?? null });
    });
    const server = await serve(app);
    served.push(server);
    await new Client(server.url).get('/keep?user=ann');
    const other = new Client(server.url);
    await other.get('/keep?user=bob');
    kept = undefined;
    await new Client(server.url).get('/keep?user=ann');
    assert.deepEqual(JSON.parse((await other.get('/read')).text), { mine: 'bob', kept: 'ann' });
  });
});

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

    it('a change after the response (timer) is dropped with a warning, never thrown (issue 24); reading stays allowed', async () => {
      const browser = app.client();
      await browser.get('/set/user?v=ann');
      app.late.length = 0;
      const warnings: string[] = [];
      const listener = ({ message }: { message: string }) => warnings.push(message);
      app.sessions.events.on('warning', listener);
      assert.equal((await browser.get('/later')).status, 200);
      await sleep(80);
      app.sessions.events.off('warning', listener);
      assert.equal(app.late[0], 'accepted', `got ${String(app.late[0])}`);
      assert.match(warnings[0] ?? '', /set "late" after the response to GET \/later/);
      assert.equal(app.late[1], 'read:ann');
      assert.equal((await browser.get('/read')).text, '{"user":"ann"}');
    });

    it('undefined anywhere in a value is dropped as JSON does (null inside arrays)', async () => {
      const browser = app.client();
      assert.equal((await browser.get('/undefined')).status, 200);
      assert.equal((await browser.get('/read')).text, '{"profile":{"name":"ann","tags":["a",null,"b"],"deep":{}}}');
    });

    it('session.permanent = false: a browser-session cookie, stored as _permanent: false, kept; = true brings Expires back', async () => {
      const browser = app.client();
      const reply = await browser.get('/forget');
      assert.equal(reply.status, 200);
      const cookie = sessionCookie(reply)!;
      assert.ok(cookie.value);
      assert.equal(cookie.attributes.get('expires'), undefined, 'no Expires: a browser-session cookie');
      assert.match((await app.stored(cookie.value))!, /^\{"_permanent":false,/);
      await browser.get('/set/later?v=1');
      assert.equal(sessionCookie((await browser.get('/set/again?v=2')))!.attributes.get('expires'), undefined, 'later saves keep it');
      assert.deepEqual(JSON.parse((await browser.get('/cookie')).text), { permanent: false, cookie: { maxAge: null, expires: null } });
      const back = sessionCookie(await browser.get('/remember'))!;
      assert.ok(Math.abs(Date.parse(back.attributes.get('expires')!) - Date.now() - 31 * DAY) < 5000);
      assert.match((await app.stored(back.value))!, /^\{"_permanent":true,/);
    });

    it('session.permanent = false survives a concurrent save (merged like a data key)', async () => {
      const browser = app.client();
      await browser.get('/set/user?v=ann');
      const id = browser.jar.get('session')!;
      await Promise.all([browser.get('/slow-forget'), (async () => {
        await sleep(20);
        await browser.get('/set/other?v=1');
      })()]);
      const stored = (await app.stored(id))!;
      assert.match(stored, /"_permanent":false/);
      assert.match(stored, /"other":"1"/);
      assert.deepEqual(JSON.parse((await browser.get('/cookie')).text).permanent, false);
    });

    it('session.cookie.maxAge = 30 days ("remember me"): cookie and store TTL follow it, on later requests too', async () => {
      const browser = app.client();
      const first = sessionCookie(await browser.get('/remember-days/30'))!;
      assert.ok(Math.abs(Date.parse(first.attributes.get('expires')!) - Date.now() - 30 * DAY) < 5000);
      const id = first.value;
      assert.match((await app.stored(id))!, /"_lifetime":2592000/);
      const later = sessionCookie(await browser.get('/set/x?v=1'))!;
      assert.ok(Math.abs(Date.parse(later.attributes.get('expires')!) - Date.now() - 30 * DAY) < 5000, 'kept by a later save');
      if (app.sessions.store.name === 'redis') {
        const ttl = Number(await redis.server.cli('PTTL', `session:${id}`));
        assert.ok(Math.abs(ttl - 30 * DAY) < 5000, `store TTL ${ttl}`);
      }
      const seen = JSON.parse((await browser.get('/cookie')).text) as { permanent: boolean; cookie: { maxAge: number } };
      assert.deepEqual(seen.cookie.maxAge, 30 * DAY);
      assert.equal(seen.permanent, true);
      assert.equal(sessionCookie(await browser.get('/session-cookie'))!.attributes.get('expires'), undefined, 'maxAge = null: browser session');
    });

    it('session.touch() refreshes the store TTL and the cookie without a data write', async () => {
      const browser = app.client();
      await browser.get('/set/user?v=ann');
      const id = browser.jar.get('session')!;
      const before = await app.stored(id);
      if (app.sessions.store.name === 'redis') await redis.server.cli('PEXPIRE', `session:${id}`, '5000');
      const reply = await browser.get('/touch');
      const cookie = sessionCookie(reply)!;
      assert.equal(cookie.value, id);
      assert.ok(Math.abs(Date.parse(cookie.attributes.get('expires')!) - Date.now() - 31 * DAY) < 5000);
      assert.equal(await app.stored(id), before, 'data unchanged');
      if (app.sessions.store.name === 'redis') {
        assert.ok(Number(await redis.server.cli('PTTL', `session:${id}`)) > 30 * DAY, 'TTL restarted');
      }
    });

    it('session.save() writes an unchanged session (its TTL restarts) and sends the cookie', async () => {
      const browser = app.client();
      await browser.get('/set/user?v=ann');
      const id = browser.jar.get('session')!;
      if (app.sessions.store.name === 'redis') await redis.server.cli('PEXPIRE', `session:${id}`, '5000');
      const reply = await browser.get('/save');
      assert.equal(sessionCookie(reply)?.value, id);
      if (app.sessions.store.name === 'redis') assert.ok(Number(await redis.server.cli('PTTL', `session:${id}`)) > 30 * DAY);
    });

    it('explicit mode: session.save() is what makes a change stored', async () => {
      const explicit = await startApp({ ...options(), explicit: true });
      const browser = explicit.client();
      await browser.get('/set/user?v=ann');
      assert.equal(browser.jar.size, 0, 'not saved without save() / dirty()');
      await browser.get('/save');
      assert.equal(browser.jar.size, 0, 'an empty new session is never stored');
      await browser.get('/set-save/user?v=ann');
      const id = browser.jar.get('session');
      assert.ok(id, 'saved with save()');
      assert.match((await explicit.stored(id))!, /"user":"ann"/);
      assert.equal((await browser.get('/read')).text, '{"user":"ann"}');
    });

    it('await session.reload() re-reads the store and drops unsaved changes', async () => {
      const browser = app.client();
      await browser.get('/set/user?v=ann');
      const reply = JSON.parse((await browser.get('/reload')).text) as { before: string; after: Record<string, unknown> };
      assert.deepEqual(reply, { before: 'unsaved', after: { user: 'ann' } });
      assert.equal((await browser.get('/read')).text, '{"user":"ann"}');
      // A fresh session has nothing stored: reload empties it.
      const fresh = JSON.parse((await app.client().get('/reload')).text) as { after: Record<string, unknown> };
      assert.deepEqual(fresh.after, {});
    });

    it('koa-session / express-session names on the session: an error naming ours, not a junk data key', async () => {
      const browser = app.client();
      assert.match((await browser.get('/foreign/set-maxAge')).text, /SessionUsageError: .*session\.cookie\.maxAge/);
      assert.match((await browser.get('/foreign/maxAge')).text, /SessionUsageError: .*session\.cookie\.maxAge/);
      assert.match((await browser.get('/foreign/resetMaxAge')).text, /SessionUsageError: .*session\.touch\(\)/);
      assert.match((await browser.get('/foreign/manuallyCommit')).text, /SessionUsageError: .*save\(\)/);
      assert.match((await browser.get('/foreign/save-callback')).text, /SessionUsageError: .*no callback/);
      assert.match((await browser.get('/foreign/cookie-secure')).text, /SessionUsageError: .*cookie\.secure in the qsession\(\) options/);
      assert.equal((await browser.get('/read')).text, '{}', 'nothing was stored');
    });

    it('rolling: a read refreshes a session with its own lifetime to that lifetime, not the default', async () => {
      const rolling = await startApp({ ...options(), rolling: true });
      const browser = rolling.client();
      await browser.get('/remember-days/2');
      const id = browser.jar.get('session')!;
      if (rolling.sessions.store.name === 'redis') await redis.server.cli('PEXPIRE', `session:${id}`, '5000');
      const cookie = sessionCookie(await browser.get('/read'))!;
      assert.ok(Math.abs(Date.parse(cookie.attributes.get('expires')!) - Date.now() - 2 * DAY) < 5000);
      if (rolling.sessions.store.name === 'redis') {
        const ttl = Number(await redis.server.cli('PTTL', `session:${id}`));
        assert.ok(Math.abs(ttl - 2 * DAY) < 5000, `store TTL ${ttl}`);
      }
    });

    it('rolling with lock: a writer that read with the lease and saved nothing also gives the session its own lifetime back', async () => {
      // With `lock`, a writer's read rides with the lease (Redis, not Cluster; the memory store), and
      // that read refreshes the TTL with the default lifetime just as the load's own read does.
      const locked = await startApp({ ...options(), rolling: true, lock: true });
      const browser = locked.client();
      await browser.get('/remember-days/2');
      const id = browser.jar.get('session')!;
      if (locked.sessions.store.name === 'redis') await redis.server.cli('PEXPIRE', `session:${id}`, '5000');
      const reply = await browser.request('/read', { method: 'POST' });
      assert.equal(reply.status, 200);
      const cookie = sessionCookie(reply)!;
      assert.ok(Math.abs(Date.parse(cookie.attributes.get('expires')!) - Date.now() - 2 * DAY) < 5000);
      if (locked.sessions.store.name === 'redis') {
        const ttl = Number(await redis.server.cli('PTTL', `session:${id}`));
        assert.ok(Math.abs(ttl - 2 * DAY) < 5000, `store TTL ${ttl}`);
      }
    });

    it('ctx.session === session inside the request', async () => {
      const reply = await app.client().get('/identity');
      assert.deepEqual(JSON.parse(reply.text), { same: true, again: true });
    });
  });
}
