// fromKoaSessionStore: koa-session external stores behind koa-qsession: koa-redis (ioredis) on a
// throwaway Redis, and a minimal Map store written here, as koa-session's README describes one.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import redisStore from 'koa-redis';
import type { CreateSessionOptions } from 'koa-session';
import {
  fromKoaSessionStore,
  qsession,
  session,
  SessionOptionsError,
  type KoaSessionRecord,
  type KoaSessionStoreLike,
  type SessionStore,
} from 'koa-qsession';
import { storeContract } from '../support/store-contract.js';
import { concurrencyCases } from '../support/redis-concurrency.js';
import { startStandalone, type Standalone } from '../support/redis.js';
import { Client, serve, type Served } from '../support/http.js';

let standalone: Promise<Standalone> | undefined;
const redis = async () => (await (standalone ??= startStandalone())).server;
after(async () => {
  await (await standalone)?.cleanup();
});

/**
 * The smallest koa-session external store: a Map of JSON strings, promise-based, with no expiry
 * of its own (koa-session itself checks `_expire` on load; so does the adapter). What it was
 * called with is recorded.
 */
class MapKoaStore implements KoaSessionStoreLike {
  readonly entries = new Map<string, string>();
  readonly calls: { method: string; maxAge?: number; options: object }[] = [];

  async get(key: string, maxAge: number, options: { rolling: boolean; ctx?: unknown }): Promise<unknown> {
    this.calls.push({ method: 'get', maxAge, options });
    const json = this.entries.get(key);
    return json === undefined ? undefined : JSON.parse(json);
  }

  async set(key: string, sess: KoaSessionRecord, maxAge: number, options: { rolling: boolean; changed: boolean; ctx?: unknown }): Promise<void> {
    this.calls.push({ method: 'set', maxAge, options });
    this.entries.set(key, JSON.stringify(sess));
  }

  async destroy(key: string, options: { ctx?: unknown }): Promise<void> {
    this.calls.push({ method: 'destroy', options });
    this.entries.delete(key);
  }
}

/** koa-redis on its own ioredis connection to the throwaway server. */
async function koaRedis() {
  const store = redisStore({ url: (await redis()).url });
  return { store, cleanup: () => store.quit().then(() => undefined) };
}

storeContract('fromKoaSessionStore(Map store)', async () => ({ store: fromKoaSessionStore(new MapKoaStore()), cleanup: async () => undefined }), {
  compareAndSet: 'in-process',
});

storeContract(
  'fromKoaSessionStore(koa-redis)',
  async () => {
    const { store, cleanup } = await koaRedis();
    return { store: fromKoaSessionStore(store), cleanup };
  },
  { compareAndSet: 'in-process' },
);

concurrencyCases('fromKoaSessionStore(koa-redis)', async () => {
  const { store, cleanup } = await koaRedis();
  return { store: fromKoaSessionStore(store), cleanup };
});

describe('fromKoaSessionStore: what the foreign store holds and is told', () => {
  it('koa-redis: koa-session\'s fields (_expire, _maxAge) plus _qsession, with the TTL koa-redis derives from maxAge', async () => {
    const { store, cleanup } = await koaRedis();
    try {
      const adapter = fromKoaSessionStore(store);
      assert.equal(adapter.name, 'koa-session:RedisStore');
      const key = `session:shape-${Date.now()}`;
      const before = Date.now();
      await adapter.create(key, '{"user":"ann"}', 90_000);
      const stored = JSON.parse(await (await redis()).cli('GET', key)) as KoaSessionRecord;
      assert.equal(stored._qsession, '{"user":"ann"}');
      assert.equal(stored._maxAge, 90_000);
      assert.ok(stored._expire >= before + 90_000 && stored._expire <= Date.now() + 90_000);
      const ttl = Number(await (await redis()).cli('TTL', key));
      assert.ok(ttl >= 89 && ttl <= 90, `koa-redis SETEX from maxAge (got ${ttl} s)`);
    } finally {
      await cleanup();
    }
  });

  it('calls get / set / destroy the way koa-session does: maxAge in ms, rolling / changed, no ctx', async () => {
    const map = new MapKoaStore();
    const adapter = fromKoaSessionStore(map);
    await adapter.create('k', 'v1', 60_000);
    await adapter.replace('k', 'v1', 'v2', 60_000);
    await adapter.touch('k', 120_000);
    await adapter.delete('k');
    assert.deepEqual(map.calls, [
      { method: 'get', maxAge: 60_000, options: { rolling: false } },
      { method: 'set', maxAge: 60_000, options: { rolling: false, changed: true } },
      { method: 'get', maxAge: 60_000, options: { rolling: false } },
      { method: 'set', maxAge: 60_000, options: { rolling: false, changed: true } },
      { method: 'get', maxAge: 120_000, options: { rolling: false } },
      { method: 'set', maxAge: 120_000, options: { rolling: true, changed: false } },
      { method: 'destroy', options: {} },
    ]);
  });

  it('past _expire a session is gone, even from a store that keeps it (as koa-session decides on load)', async () => {
    const map = new MapKoaStore();
    const adapter = fromKoaSessionStore(map);
    map.entries.set('k', JSON.stringify({ _expire: Date.now() - 1, _maxAge: 1000, _qsession: 'old' }));
    assert.equal(await adapter.get('k'), null);
    assert.deepEqual(await adapter.replace('k', 'old', 'new', 60_000), { status: 'missing' });
    assert.equal(await adapter.create('k', 'fresh', 60_000), true);
    assert.equal(await adapter.get('k'), 'fresh');
  });

  it('never reads or overwrites a koa-session session it did not write', async () => {
    const map = new MapKoaStore();
    const adapter = fromKoaSessionStore(map);
    const theirs = JSON.stringify({ _expire: Date.now() + 60_000, _maxAge: 60_000, views: 3 });
    map.entries.set('k', theirs);
    assert.equal(await adapter.get('k', 60_000), null);
    assert.equal(await adapter.create('k', 'mine', 60_000), false);
    await adapter.touch('k', 60_000);
    assert.equal(map.entries.get('k'), theirs);
  });

  it('bytes are kept as base64 in _qsessionBytes', async () => {
    const map = new MapKoaStore();
    const adapter = fromKoaSessionStore(map);
    await adapter.create('k', Uint8Array.from([0, 200, 255]), 60_000);
    assert.equal((JSON.parse(map.entries.get('k')!) as KoaSessionRecord)._qsessionBytes, 'AMj/');
    assert.deepEqual(Buffer.from((await adapter.get('k')) as Uint8Array), Buffer.from([0, 200, 255]));
  });

  it("a store typed for koa-session's `store` option fits without a cast", () => {
    type KoaSessionStore = NonNullable<CreateSessionOptions['store']>;
    const typed: KoaSessionStore = new MapKoaStore();
    assert.equal(fromKoaSessionStore(typed).name, 'koa-session:MapKoaStore');
  });
});

describe('fromKoaSessionStore over HTTP: a rolling Koa app on koa-redis', () => {
  let served: Served;
  let middleware: ReturnType<typeof qsession>;
  let cleanup: () => Promise<void>;
  before(async () => {
    const koa = await koaRedis();
    cleanup = koa.cleanup;
    middleware = qsession({ store: fromKoaSessionStore(koa.store), rolling: true, lifetime: 3_600_000 });
    const app = new Koa();
    app.silent = true;
    app.use(middleware);
    app.use(async (ctx) => {
      if (ctx.path === '/login') session.user = String(ctx.query.user);
      if (ctx.path === '/logout') session.destroy();
      ctx.body = JSON.stringify(session.toJSON());
    });
    served = await serve(app);
  });
  after(async () => {
    await served?.close();
    await middleware?.close();
    await cleanup?.();
  });

  it('logs in, reads (each read restarts the expiry), logs out', async () => {
    const browser = new Client(served.url);
    await browser.get('/login?user=ann');
    const id = browser.jar.get('session');
    assert.ok(id);
    const key = `session:${id}`;
    const first = (JSON.parse(await (await redis()).cli('GET', key)) as KoaSessionRecord)._expire;
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(JSON.parse((await browser.get('/me')).text), { user: 'ann' });
    const rolled = JSON.parse(await (await redis()).cli('GET', key)) as KoaSessionRecord;
    assert.ok(rolled._expire > first, 'a rolling read wrote the session back with a later _expire');
    assert.equal(rolled._qsession, '{"_permanent":true,"user":"ann"}');
    await browser.get('/logout');
    assert.equal(await (await redis()).cli('EXISTS', key), '0\n');
  });
});

describe('fromKoaSessionStore: misuse fails at start-up', () => {
  it('qsession({ store }) with a koa-session store as it is: refused, naming the adapters', () => {
    assert.throws(() => qsession({ store: new MapKoaStore() as unknown as SessionStore }), (error: unknown) => {
      assert.ok(error instanceof SessionOptionsError);
      assert.match(error.message, /fromKoaSessionStore\(yourStore\)/);
      return true;
    });
  });

  it('an object without destroy is refused', () => {
    assert.throws(() => fromKoaSessionStore({ get: async () => null, set: async () => undefined } as unknown as KoaSessionStoreLike), /must have a destroy\(\) method/);
  });
});
