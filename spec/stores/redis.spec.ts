import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient, REDIS_MAJOR, storeDriverVersion } from '../support/redis-driver.js';
import { qsession, RedisStore, SessionOptionsError } from 'koa-qsession';
import { storeContract } from '../support/store-contract.js';
import { concurrencyCases } from '../support/redis-concurrency.js';
import { startApp, type TestApp } from '../support/redis-app.js';
import { commandsDuring, startStandalone, waitFor, type Standalone } from '../support/redis.js';
import { freePort } from '../support/process.js';

// One throwaway redis-server for this file, started on first use.
let standalone: Promise<Standalone> | undefined;
const server = async () => (await (standalone ??= startStandalone())).server;
after(async () => {
  await (await standalone)?.cleanup();
});

storeContract('redis standalone (url)', async () => {
  const store = new RedisStore((await server()).url);
  return { store, cleanup: () => store.close() };
});

storeContract('redis standalone (shared client)', async () => {
  const client = await createClient({ url: (await server()).url }).connect();
  return {
    store: new RedisStore(client),
    cleanup: async () => {
      client.destroy();
    },
  };
});

concurrencyCases('redis standalone', async () => {
  const store = new RedisStore((await server()).url);
  return { store, cleanup: () => store.close() };
});

/** Client round trips in a commandstats delta: each script call runs one GET and at most one SET inside Redis. */
function roundTrips(stats: Record<string, number>): number {
  const scripts = (stats.evalsha ?? 0) + (stats.eval ?? 0);
  const inside = scripts + Math.min(stats.set ?? 0, scripts);
  return Object.values(stats).reduce((sum, calls) => sum + calls, 0) - inside;
}

describe('redis round trips (INFO commandstats)', () => {
  let app: TestApp;
  let rollingApp: TestApp;
  let id: string;
  before(async () => {
    const { url } = await server();
    app = await startApp({ type: 'redis', redis: url });
    rollingApp = await startApp({ type: 'redis', redis: url, rolling: true });
    for (const each of [app, rollingApp]) await (each.sessions.store as RedisStore).connect();
    // Warm up: both connections open, and the compare-and-set script is in Redis's script cache.
    id = (await app.request('/set?a=1')).cookie!;
    await app.request('/set?a=2', id);
    await rollingApp.request('/dump', id);
  });
  after(async () => {
    await app?.close();
    await rollingApp?.close();
  });

  it('a request without a session cookie sends nothing', async () => {
    assert.deepEqual(await commandsDuring(await server(), () => app.request('/dump')), {});
  });

  it('a read is one GET', async () => {
    assert.deepEqual(await commandsDuring(await server(), () => app.request('/dump', id)), { get: 1 });
  });

  it('a rolling read is one GETEX (the expiry refresh rides along), then the retired-id check before the cookie is re-sent', async () => {
    assert.deepEqual(await commandsDuring(await server(), () => rollingApp.request('/dump', id)), { getex: 1, get: 1 });
  });

  // commandstats also counts the commands a script runs inside Redis: the compare-and-set script's
  // own GET (and SET when it replaces) show up next to its EVALSHA, but are not round trips.
  it('a write is one read and one compare-and-set script call', async () => {
    const stats = await commandsDuring(await server(), () => app.request('/set?b=3', id));
    assert.deepEqual(stats, { get: 1 + 1, evalsha: 1, set: 1 });
    assert.equal(roundTrips(stats), 2);
  });

  it('a lone write with `lock`: the lease is taken (SET NX) and released by the compare-and-set script itself', async () => {
    const { url, cli } = await server();
    const locked = await startApp({ type: 'redis', redis: url, lock: true, keyPrefix: 'locked:' });
    try {
      const lockedId = (await locked.request('/set?a=1')).cookie!;
      await locked.request('/set?a=2', lockedId); // the script is in Redis's cache from here on
      const stats = await commandsDuring(await server(), () => locked.request('/set?a=3', lockedId));
      // Round trips: SET NX (the lease), GET (the session), EVALSHA (inside it: GET and DEL of the
      // lease, GET and SET of the session). No release call of its own.
      assert.deepEqual(stats, { set: 1 + 1, get: 1 + 2, evalsha: 1, del: 1 });
      assert.equal((await cli('EXISTS', `locked:${lockedId}:lock`)).trimEnd(), '0', 'released');
      assert.equal((await cli('GET', `locked:${lockedId}`)).trimEnd(), '{"_permanent":true,"a":"3"}');
    } finally {
      await locked.close();
    }
  });

  it('a new session is one SET NX', async () => {
    assert.deepEqual(await commandsDuring(await server(), () => app.request('/set?c=4')), { set: 1 });
  });

  it('a conflicting write merges from the script reply, without an extra GET', async () => {
    const { cli } = await server();
    const key = `session:${id}`;
    const store = app.sessions.store;
    const before = (await store.get(key))!;
    await cli('SET', key, '{"_permanent":true,"other":"x"}', 'PX', '60000');
    const stats = await commandsDuring(await server(), () => store.replace(key, before, '{"mine":1}', 60_000));
    assert.deepEqual(stats, { evalsha: 1, get: 1 }, 'the script reads the current value; no SET, no GET of its own');
    assert.equal(roundTrips(stats), 1);
  });

  it('stores exactly the text the serializer produced (what Quart-Session reads)', async () => {
    const { cli } = await server();
    const fresh = (await app.request('/set?foo=bar')).cookie!;
    assert.equal((await cli('GET', `session:${fresh}`)).trimEnd(), '{"_permanent":true,"foo":"bar"}');
    const ttl = Number(await cli('PTTL', `session:${fresh}`));
    assert.ok(ttl > 30 * 24 * 3600 * 1000, `TTL is the 31-day lifetime (got ${ttl} ms)`);
  });
});

describe('RedisStore.replaceAndRelease (option `lock`)', () => {
  it('releases the lease only when it holds the token, whatever the compare-and-set answers', async () => {
    const { url, cli } = await server();
    const store = new RedisStore(url);
    try {
      assert.ok(store.replaceAndRelease);
      await store.create('rr:s', 'v1', 60_000);
      await store.create('rr:s:lock', 'mine', 60_000);
      assert.deepEqual(await store.replaceAndRelease('rr:s', 'v1', 'v2', 60_000, 'rr:s:lock', 'mine'), { status: 'ok' });
      assert.equal((await cli('EXISTS', 'rr:s:lock')).trimEnd(), '0');
      assert.equal((await cli('GET', 'rr:s')).trimEnd(), 'v2');
      // A conflict releases too (the writer is done with the lease) and leaves the session as it was.
      await store.create('rr:s:lock', 'mine', 60_000);
      const conflict = await store.replaceAndRelease('rr:s', 'v1', 'v3', 60_000, 'rr:s:lock', 'mine');
      assert.equal(conflict.status, 'conflict');
      assert.equal((await cli('EXISTS', 'rr:s:lock')).trimEnd(), '0');
      assert.equal((await cli('GET', 'rr:s')).trimEnd(), 'v2');
      // Another writer's lease (this one's expired and was taken again) is not touched.
      await store.create('rr:s:lock', 'theirs', 60_000);
      assert.deepEqual(await store.replaceAndRelease('rr:s', 'v2', 'v4', 60_000, 'rr:s:lock', 'mine'), { status: 'ok' });
      assert.equal((await cli('GET', 'rr:s:lock')).trimEnd(), 'theirs');
      // A session gone: nothing created, the lease still released.
      await cli('DEL', 'rr:s:lock');
      await store.create('rr:gone:lock', 'mine', 60_000);
      assert.deepEqual(await store.replaceAndRelease('rr:gone', 'v1', 'v2', 60_000, 'rr:gone:lock', 'mine'), { status: 'missing' });
      assert.equal((await cli('EXISTS', 'rr:gone')).trimEnd(), '0');
      assert.equal((await cli('EXISTS', 'rr:gone:lock')).trimEnd(), '0');
    } finally {
      await store.close();
    }
  });
});

describe('RedisStore options and connections', () => {
  it(`drives node-redis ${REDIS_MAJOR} (QSESSION_REDIS_MAJOR selects 5 or 6): the store's own connection and the specs' clients`, async () => {
    assert.equal(Number(storeDriverVersion().split('.')[0]), REDIS_MAJOR, 'the `redis` the store loads');
    const { url, cli } = await server();
    const client = await createClient({ url, name: 'driver-check' }).connect();
    try {
      const line = (await cli('CLIENT', 'LIST')).split('\n').find((l) => l.includes('name=driver-check')) ?? '';
      // node-redis 6 speaks RESP3 by default (HELLO 3), 5 RESP2: the replies the store parses differ.
      assert.match(line, new RegExp(`resp=${REDIS_MAJOR === 6 ? 3 : 2}\\b`));
    } finally {
      client.destroy();
    }
    const clients = async () => (await cli('CLIENT', 'LIST')).trim().split('\n').filter((l) => !l.includes('cmd=client|list'));
    const before = new Set((await clients()).map((l) => /\bid=(\d+)/.exec(l)?.[1]));
    const store = new RedisStore(url);
    try {
      assert.equal(await store.create('driver:check', Buffer.from([0xff, 0x00]), 60_000), true);
      const own = (await clients()).filter((l) => !before.has(/\bid=(\d+)/.exec(l)?.[1]));
      assert.equal(own.length, 1, "the store's own connection");
      assert.match(own[0]!, new RegExp(`resp=${REDIS_MAJOR === 6 ? 3 : 2}\\b`), 'the store loaded the same major');
      assert.deepEqual(await store.get('driver:check'), Buffer.from([0xff, 0x00]), 'bytes come back as bytes');
    } finally {
      await store.close();
    }
  });

  it('is selected with type "redis", and qsession() stays synchronous and connects lazily', async () => {
    const port = await freePort(); // nothing listens here: constructing must not try to connect
    const middleware = qsession({ type: 'redis', redis: `redis://127.0.0.1:${port}` });
    assert.equal(middleware.store.name, 'redis');
    assert.ok(middleware.store instanceof RedisStore);
    await middleware.close();
  });

  it('rejects a bad `redis` option with an error naming it', () => {
    for (const bad of ['not a url', 'http://localhost:6379', 42, {}, null]) {
      assert.throws(() => qsession({ type: 'redis', redis: bad as never }), (error: unknown) => {
        assert.ok(error instanceof SessionOptionsError);
        assert.equal(error.option, 'redis');
        return true;
      });
    }
  });

  it('never closes a client it did not open', async () => {
    const client = await createClient({ url: (await server()).url }).connect();
    try {
      const store = new RedisStore(client);
      await store.create(`k:${Date.now()}`, 'v', 60_000);
      await store.close();
      assert.equal(client.isReady, true);
      assert.equal(await client.ping(), 'PONG');
    } finally {
      client.destroy();
    }
  });

  it('says clearly when a shared client was never connected', async () => {
    const client = createClient({ url: (await server()).url });
    await assert.rejects(new RedisStore(client).get('k'), /not connected/);
  });

  it('closes the connection it opened itself', async () => {
    const { cli, url } = await server();
    const clients = async () => (await cli('CLIENT', 'LIST')).trim().split('\n').length;
    const baseline = await clients();
    const store = new RedisStore(url);
    await store.get('k');
    assert.equal(await clients(), baseline + 1);
    await store.close();
    await waitFor('the server to see the connection go', async () => (await clients()) === baseline, 3000);
  });
});
