import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Koa from 'koa';
import { qsession, session, SessionUsageError } from 'koa-qsession';
import { sessionStorage } from '../../src/koa/context-storage.js';

declare module 'koa-qsession' {
  interface SessionData {
    who: string;
  }
}

/** Serves `app` on a free port; `get(path, cookie)` fetches from it. */
async function serve(app: Koa) {
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    get: async (path: string, cookie?: string) => {
      const response = await fetch(base + path, { headers: cookie ? { cookie } : {} });
      return { text: await response.text(), cookie: response.headers.get('set-cookie')?.split(';')[0], status: response.status };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** An app whose handler reads the global `session` after awaits and timers, and reports whether qsession's own storage was in use. */
function appWith(options: { asyncLocalStorage: boolean }) {
  const app = new Koa(options);
  app.use(qsession({ type: 'memory' }));
  app.use(async (ctx) => {
    if (ctx.path === '/set') session.who = String(ctx.query.who);
    await sleep(5);
    const who = await new Promise<string | undefined>((resolve) => setTimeout(() => resolve(session.get('who')), 5));
    ctx.body = JSON.stringify({ who, ownStorage: sessionStorage.getStore() !== undefined, same: session.id === ctx.session.id });
  });
  return app;
}

describe("Koa's asyncLocalStorage option", () => {
  const servers: Array<{ close(): Promise<void> }> = [];
  after(async () => {
    for (const server of servers) await server.close();
  });

  it('with it on, the global session uses Koa\'s storage and qsession adds none', async () => {
    const server = await serve(appWith({ asyncLocalStorage: true }));
    servers.push(server);
    const first = await server.get('/set?who=alice');
    assert.deepEqual(JSON.parse(first.text), { who: 'alice', ownStorage: false, same: true });
    assert.ok(first.cookie);
    assert.equal(JSON.parse((await server.get('/', first.cookie)).text).who, 'alice');
  });

  it('with it off, qsession runs its own storage', async () => {
    const server = await serve(appWith({ asyncLocalStorage: false }));
    servers.push(server);
    assert.deepEqual(JSON.parse((await server.get('/set?who=bob')).text), { who: 'bob', ownStorage: true, same: true });
  });

  it('two apps with Koa storage, requests interleaved: each handler sees its own session', async () => {
    const [a, b] = [await serve(appWith({ asyncLocalStorage: true })), await serve(appWith({ asyncLocalStorage: true }))];
    servers.push(a, b);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).get(`/set?who=u${i}`).then((r) => JSON.parse(r.text).who)),
    );
    assert.deepEqual(results, Array.from({ length: 20 }, (_, i) => `u${i}`));
  });

  it('before qsession ran, the global session still says it is outside a session', async () => {
    const app = new Koa({ asyncLocalStorage: true });
    app.use(async (ctx, next) => {
      try {
        session.get('who');
        ctx.body = 'no error';
      } catch (error) {
        ctx.body = error instanceof SessionUsageError ? 'usage error' : 'other error';
      }
      await next();
    });
    app.use(qsession({ type: 'memory' }));
    const server = await serve(app);
    servers.push(server);
    assert.equal((await server.get('/')).text, 'usage error');
  });
});
