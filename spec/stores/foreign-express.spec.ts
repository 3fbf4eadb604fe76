// fromExpressStore: express-session stores behind koa-qsession, against real servers:
// connect-redis on a throwaway Redis, connect-pg-simple on a throwaway PostgreSQL, and
// express-session's own MemoryStore (in this process).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import { createClient } from 'redis';
import { RedisStore as ConnectRedisStore } from 'connect-redis';
import expressSession from 'express-session';
import connectPgSimple from 'connect-pg-simple';
import {
  fromExpressStore,
  qsession,
  session,
  SessionOptionsError,
  SessionStoreError,
  v8Serializer,
  type ExpressSessionRecord,
  type ExpressSessionStoreLike,
  type SessionStore,
} from 'koa-qsession';
import { storeContract } from '../support/store-contract.js';
import { concurrencyCases } from '../support/redis-concurrency.js';
import { startStandalone, type Standalone } from '../support/redis.js';
import { startPostgres, type PostgresServer } from '../support/postgres.js';
import { freePort } from '../support/process.js';
import { Client, serve, type Served } from '../support/http.js';

// One throwaway redis-server and one PostgreSQL for this file, each started on first use.
let standalone: Promise<Standalone> | undefined;
const redis = async () => (await (standalone ??= startStandalone())).server;
let postgres: Promise<PostgresServer> | undefined;
const pg = () => (postgres ??= startPostgres());
after(async () => {
  await (await standalone)?.cleanup();
  await (await postgres)?.cleanup();
});

const PGStore = connectPgSimple(expressSession);

/** connect-redis on its own node-redis client; `cleanup` closes that client. */
async function connectRedis(): Promise<{ store: ConnectRedisStore; cleanup: () => Promise<void> }> {
  const client = await createClient({ url: (await redis()).url }).connect();
  return {
    store: new ConnectRedisStore({ client }),
    cleanup: async () => {
      client.destroy();
    },
  };
}

/** connect-pg-simple, creating its table (the package's table.sql) on first use. */
async function connectPg(): Promise<{ store: InstanceType<typeof PGStore>; cleanup: () => Promise<void> }> {
  const store = new PGStore({ conString: (await pg()).url, createTableIfMissing: true, pruneSessionInterval: false });
  return {
    store,
    cleanup: async () => {
      await store.close(); // void in @types/connect-pg-simple; a promise in the package
    },
  };
}

// connect-redis and connect-pg-simple count expiry in whole seconds.
storeContract(
  'fromExpressStore(connect-redis)',
  async () => {
    const { store, cleanup } = await connectRedis();
    return { store: fromExpressStore(store), cleanup };
  },
  { ttlGranularityMs: 1000, compareAndSet: 'in-process' },
);

storeContract(
  'fromExpressStore(connect-pg-simple)',
  async () => {
    const { store, cleanup } = await connectPg();
    return { store: fromExpressStore(store), cleanup };
  },
  { ttlGranularityMs: 1000, compareAndSet: 'in-process' },
);

storeContract(
  'fromExpressStore(express-session MemoryStore)',
  async () => ({ store: fromExpressStore(new expressSession.MemoryStore()), cleanup: async () => undefined }),
  { compareAndSet: 'in-process' },
);

// Overlapping requests in one process: the core's merge and the adapter's queue together.
concurrencyCases('fromExpressStore(connect-redis)', async () => {
  const { store, cleanup } = await connectRedis();
  return { store: fromExpressStore(store), cleanup };
});
concurrencyCases('fromExpressStore(connect-pg-simple)', async () => {
  const { store, cleanup } = await connectPg();
  return { store: fromExpressStore(store), cleanup };
});

describe('fromExpressStore: what the foreign store holds', () => {
  it('connect-redis: the session object under its prefix, with the TTL its own logic computed from cookie.expires', async () => {
    const { store, cleanup } = await connectRedis();
    try {
      const adapter = fromExpressStore(store);
      assert.equal(adapter.name, 'express:RedisStore');
      const key = `session:shape-${Date.now()}`;
      const before = Date.now();
      assert.equal(await adapter.create(key, '{"_permanent":true,"user":"ann"}', 90_000), true);
      const server = await redis();
      const stored = JSON.parse(await server.cli('GET', `sess:${key}`)) as ExpressSessionRecord;
      assert.equal(stored.qsession, '{"_permanent":true,"user":"ann"}');
      assert.equal(stored.cookie.originalMaxAge, 90_000);
      const expires = Date.parse(String(stored.cookie.expires));
      assert.ok(expires >= before + 90_000 && expires <= Date.now() + 90_000, `cookie.expires is now + TTL (got ${String(stored.cookie.expires)})`);
      const ttl = Number(await server.cli('TTL', `sess:${key}`));
      assert.ok(ttl >= 89 && ttl <= 90, `connect-redis set the TTL from cookie.expires (got ${ttl} s)`);

      await adapter.touch(key, 300_000);
      const touched = Number(await server.cli('TTL', `sess:${key}`));
      assert.ok(touched >= 299 && touched <= 300, `touch goes through connect-redis's touch (EXPIRE), got ${touched} s`);
      assert.equal((JSON.parse(await server.cli('GET', `sess:${key}`)) as ExpressSessionRecord).qsession, '{"_permanent":true,"user":"ann"}');
    } finally {
      await cleanup();
    }
  });

  it('a store without touch: the expiry is refreshed by writing the session back whole', async () => {
    const { store, cleanup } = await connectRedis();
    try {
      const withoutTouch: ExpressSessionStoreLike = {
        get: (sid, done) => store.get(sid, done),
        set: (sid, sess, done) => store.set(sid, sess, done),
        destroy: (sid, done) => store.destroy(sid, done),
      };
      const adapter = fromExpressStore(withoutTouch);
      const key = `session:no-touch-${Date.now()}`;
      await adapter.create(key, 'v', 60_000);
      assert.equal(await adapter.get(key, 600_000), 'v');
      const ttl = Number(await (await redis()).cli('TTL', `sess:${key}`));
      assert.ok(ttl >= 599 && ttl <= 600, `a rolling read rewrote it with the new TTL (got ${ttl} s)`);
      const stored = JSON.parse(await (await redis()).cli('GET', `sess:${key}`)) as ExpressSessionRecord;
      assert.equal(stored.qsession, 'v');
      assert.equal(stored.cookie.originalMaxAge, 600_000);
      await adapter.delete(key);
      await adapter.touch(key, 60_000);
      assert.equal(await (await redis()).cli('EXISTS', `sess:${key}`), '0\n', 'touch does not bring back a missing session');
    } finally {
      await cleanup();
    }
  });

  it('connect-pg-simple: one row in its "session" table, expire = now + TTL', async () => {
    const { store, cleanup } = await connectPg();
    try {
      const adapter = fromExpressStore(store);
      assert.equal(adapter.name, 'express:PGStore');
      const key = `session:shape-${Date.now()}`;
      await adapter.create(key, '{"user":"bob"}', 120_000);
      const [sess, seconds] = (await (await pg()).psql(`SELECT sess, round(extract(epoch FROM expire - localtimestamp)) FROM session WHERE sid = '${key}'`)).trim().split('|');
      assert.equal((JSON.parse(sess!) as ExpressSessionRecord).qsession, '{"user":"bob"}');
      assert.ok(Math.abs(Number(seconds) - 120) <= 2, `expire is about 120 s away (got ${seconds})`);
      await adapter.delete(key);
      assert.equal((await (await pg()).psql(`SELECT count(*) FROM session WHERE sid = '${key}'`)).trim(), '0');
    } finally {
      await cleanup();
    }
  });

  it('bytes (the v8 serializer) are kept as base64 in qsessionBytes and come back as bytes', async () => {
    const { store, cleanup } = await connectRedis();
    try {
      const adapter = fromExpressStore(store);
      const key = `session:bytes-${Date.now()}`;
      const value = Uint8Array.from([0, 255, 1, 254, 0xc3, 0x28]);
      await adapter.create(key, value, 60_000);
      const stored = JSON.parse(await (await redis()).cli('GET', `sess:${key}`)) as ExpressSessionRecord;
      assert.equal(stored.qsessionBytes, Buffer.from(value).toString('base64'));
      assert.equal(stored.qsession, undefined);
      const got = await adapter.get(key);
      assert.ok(got instanceof Uint8Array);
      assert.deepEqual(Buffer.from(got), Buffer.from(value));
    } finally {
      await cleanup();
    }
  });

  it('never reads or overwrites a session it did not write (an express-session one under the same sid)', async () => {
    const { store, cleanup } = await connectRedis();
    try {
      const adapter = fromExpressStore(store);
      const key = `session:theirs-${Date.now()}`;
      const theirs = JSON.stringify({ cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000) }, user: 'express' });
      await (await redis()).cli('SET', `sess:${key}`, theirs, 'EX', '60');
      assert.equal(await adapter.get(key), null);
      assert.equal(await adapter.create(key, 'mine', 60_000), false, 'create says taken: the core picks another id');
      assert.deepEqual(await adapter.replace(key, 'x', 'mine', 60_000), { status: 'missing' });
      await adapter.touch(key, 120_000);
      assert.equal(await (await redis()).cli('GET', `sess:${key}`), `${theirs}\n`);
    } finally {
      await cleanup();
    }
  });

  it("a store's failure reaches the caller (connect-pg-simple with nothing listening)", async () => {
    const port = await freePort();
    const store = new PGStore({ conString: `postgres://postgres@127.0.0.1:${port}/postgres`, pruneSessionInterval: false, errorLog: () => undefined });
    try {
      await assert.rejects(fromExpressStore(store).get('session:x'), /ECONNREFUSED|connect/);
    } finally {
      await store.close();
    }
  });
});

/**
 * A connect-redis store whose `set` waits at a gate: to put another call between an adapter's
 * read and its write, deterministically. The store underneath is the real one.
 */
function gatedSets(store: ConnectRedisStore): { store: ExpressSessionStoreLike; reachedSet: Promise<void>; open: () => void } {
  let reached!: () => void;
  const reachedSet = new Promise<void>((resolve) => (reached = resolve));
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  return {
    reachedSet,
    open,
    store: {
      get: (sid, done) => store.get(sid, done),
      destroy: (sid, done) => store.destroy(sid, done),
      touch: (sid, sess, done) => store.touch(sid, sess, done),
      set: (sid, sess, done) => {
        reached();
        void gate.then(() => store.set(sid, sess, done));
      },
    },
  };
}

describe('fromExpressStore: no compare-and-set between processes (docs/stores-foreign.md)', () => {
  let redisStore: { store: ConnectRedisStore; cleanup: () => Promise<void> };
  before(async () => {
    redisStore = await connectRedis();
  });
  after(async () => {
    await redisStore?.cleanup();
  });

  it('holds in one process: a delete waits for the replace already under way, so nothing comes back', async () => {
    const gated = gatedSets(redisStore.store);
    const adapter = fromExpressStore(gated.store);
    const key = `session:one-process-${Date.now()}`;
    await redisStore.store.set(key, { cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000) }, qsession: 'v1' } as never);
    const replacing = adapter.replace(key, 'v1', 'v2', 60_000);
    await gated.reachedSet;
    const deleting = adapter.delete(key);
    gated.open();
    assert.deepEqual(await replacing, { status: 'ok' });
    await deleting;
    assert.equal(await adapter.get(key), null);
  });

  it('lost between processes: a replace in flight in one brings back a session another destroyed', async () => {
    const gated = gatedSets(redisStore.store);
    const slow = fromExpressStore(gated.store); // process A
    const other = fromExpressStore(redisStore.store); // process B: its own adapter, its own queue
    const key = `session:two-processes-${Date.now()}`;
    assert.equal(await other.create(key, 'v1', 60_000), true);
    const replacing = slow.replace(key, 'v1', 'v2', 60_000);
    await gated.reachedSet; // A has read v1 and is about to write
    await other.delete(key); // B logs the user out
    gated.open();
    assert.deepEqual(await replacing, { status: 'ok' });
    assert.equal(await other.get(key), 'v2', 'the destroyed session is back: what an atomic store prevents');
  });

  it('lost between processes: two replaces from one value both succeed, the first write is lost', async () => {
    const gated = gatedSets(redisStore.store);
    const slow = fromExpressStore(gated.store);
    const other = fromExpressStore(redisStore.store);
    const key = `session:two-writers-${Date.now()}`;
    await other.create(key, 'base', 60_000);
    const replacing = slow.replace(key, 'base', 'from-a', 60_000);
    await gated.reachedSet;
    assert.deepEqual(await other.replace(key, 'base', 'from-b', 60_000), { status: 'ok' });
    gated.open();
    assert.deepEqual(await replacing, { status: 'ok' }, 'A never saw B\'s write');
    assert.equal(await other.get(key), 'from-a');
  });
});

describe('fromExpressStore over HTTP: a Koa app on connect-redis', () => {
  let served: Served;
  let middleware: ReturnType<typeof qsession>;
  let cleanup: () => Promise<void>;
  let store: SessionStore;
  before(async () => {
    const redisStore = await connectRedis();
    cleanup = redisStore.cleanup;
    store = fromExpressStore(redisStore.store);
    middleware = qsession({ store, explicit: true });
    const app = new Koa();
    app.silent = true;
    app.use(middleware);
    app.use(async (ctx) => {
      switch (ctx.path) {
        case '/login':
          session.user = String(ctx.query.user);
          session.dirty();
          ctx.body = 'logged in';
          break;
        case '/cart':
          session.cart = [...((session.get('cart') as string[] | undefined) ?? []), String(ctx.query.add)];
          session.dirty();
          ctx.body = 'added';
          break;
        case '/logout':
          session.destroy();
          ctx.body = 'bye';
          break;
        default:
          ctx.body = JSON.stringify(session.toJSON());
      }
    });
    served = await serve(app);
  });
  after(async () => {
    await served?.close();
    await middleware?.close();
    await cleanup?.();
  });

  it('logs in, reads, writes and logs out; the data lives in Redis under connect-redis\'s prefix', async () => {
    const browser = new Client(served.url);
    assert.equal((await browser.get('/me')).text, '{}');
    assert.equal(browser.jar.size, 0, 'explicit mode: browsing anonymously sets no cookie');

    assert.equal((await browser.get('/login?user=ann')).status, 200);
    const id = browser.jar.get('session');
    assert.ok(id);
    const redisKey = `sess:session:${id}`;
    const stored = JSON.parse(await (await redis()).cli('GET', redisKey)) as ExpressSessionRecord;
    assert.equal(stored.qsession, '{"_permanent":true,"user":"ann"}', 'tagged JSON, as Quart-Session writes it');
    assert.ok(Number(await (await redis()).cli('TTL', redisKey)) > 30 * 24 * 3600, 'the 31-day lifetime reached connect-redis');

    assert.deepEqual(JSON.parse((await browser.get('/me')).text), { user: 'ann' });
    await browser.get('/cart?add=apple');
    await browser.get('/cart?add=pear');
    assert.deepEqual(JSON.parse((await browser.get('/me')).text), { user: 'ann', cart: ['apple', 'pear'] });

    const copy = browser.cookieHeader!;
    const logout = await browser.get('/logout');
    assert.match(logout.setCookies.join('\n'), /session=;/);
    assert.equal(await (await redis()).cli('EXISTS', redisKey), '0\n');
    assert.deepEqual(JSON.parse((await browser.get('/me', { cookie: copy })).text), {}, 'a copy of the old cookie opens nothing');
  });

  it('the v8 serializer works through the base64 mapping', async () => {
    const { store: raw, cleanup: close } = await connectRedis();
    const v8 = qsession({ store: fromExpressStore(raw), serializer: v8Serializer });
    const app = new Koa();
    app.use(v8);
    app.use(async (ctx) => {
      if (ctx.path === '/set') session.when = new Date(0);
      ctx.body = String((session.get('when') as Date | undefined)?.toISOString());
    });
    const server = await serve(app);
    try {
      const browser = new Client(server.url);
      await browser.get('/set');
      assert.equal((await browser.get('/')).text, '1970-01-01T00:00:00.000Z');
    } finally {
      await server.close();
      await v8.close();
      await close();
    }
  });
});

describe('fromExpressStore: misuse fails at start-up', () => {
  it('qsession({ store }) with a connect store as it is: refused, naming fromExpressStore', async () => {
    const { store, cleanup } = await connectRedis();
    try {
      assert.throws(() => qsession({ store: store as unknown as SessionStore }), (error: unknown) => {
        assert.ok(error instanceof SessionOptionsError);
        assert.equal(error.option, 'store');
        assert.match(error.message, /fromExpressStore\(yourStore\)/);
        assert.match(error.message, /compare-and-set/);
        return true;
      });
    } finally {
      await cleanup();
    }
  });

  it('an object without get / set / destroy is refused with the method it lacks', () => {
    for (const [bad, missing] of [[{}, 'get'], [{ get() {}, set() {} }, 'destroy'], [null, 'get']] as const) {
      assert.throws(() => fromExpressStore(bad as unknown as ExpressSessionStoreLike), (error: unknown) => {
        assert.ok(error instanceof SessionOptionsError);
        assert.match(error.message, new RegExp(`fromExpressStore\\(\\) must have a ${missing}\\(\\) method`));
        return true;
      });
    }
  });

  it('a bad holdMs is refused', () => {
    assert.throws(() => fromExpressStore(new expressSession.MemoryStore(), { holdMs: 0 }), /fromExpressStore\.holdMs/);
  });

  it('a store failure is answered 503 by the middleware like any store error', async () => {
    const port = await freePort();
    const pgStore = new PGStore({ conString: `postgres://postgres@127.0.0.1:${port}/postgres`, pruneSessionInterval: false, errorLog: () => undefined });
    const middleware = qsession({ store: fromExpressStore(pgStore) });
    const errors: unknown[] = [];
    middleware.events.on('store-error', ({ error }) => errors.push(error));
    const app = new Koa();
    app.silent = true;
    app.use(middleware);
    app.use(async (ctx) => {
      session.x = 1;
      ctx.body = 'ok';
    });
    const server = await serve(app);
    try {
      assert.equal((await new Client(server.url).get('/')).status, 503);
      assert.ok(errors[0] instanceof SessionStoreError);
    } finally {
      await server.close();
      await pgStore.close();
    }
  });
});
