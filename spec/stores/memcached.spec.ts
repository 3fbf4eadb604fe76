import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import memjs from 'memjs';
import { MemcachedStore, SessionOptionsError, SessionTooLargeError, qsession, type MemjsClientLike } from 'koa-qsession';
import { ITEM_OVERHEAD } from '../../src/stores/memcached/store.js';
import { MEMJS_RANGE, missingMemjsInternals, Opcode, send, Status, type MemjsClientLike as ProtocolClient } from '../../src/stores/memcached/protocol.js';
import { keysOn, startMemcached, ttlOf, type MemcachedServer } from '../support/memcached.js';
import { startSessionApp } from '../support/session-app.js';
import { storeContract } from '../support/store-contract.js';

const DAY = 24 * 60 * 60 * 1000;
const ID = 'x'.repeat(43);

storeContract(
  'memcached (one server)',
  async () => {
    const server = await startMemcached();
    const store = new MemcachedStore(server.address);
    return { store, cleanup: async () => (await store.close(), await server.stop()) };
  },
  { ttlGranularityMs: 1000 },
);

/** Index of the server (in the servers string) that memjs hashes `key` to. */
const homeOf = (key: string, servers: number) => memjs.Utils.hashCode(key) % servers;

describe('MemcachedStore on one server', () => {
  let server: MemcachedServer;
  let store: MemcachedStore;
  before(async () => {
    server = await startMemcached({ itemSize: '1m' });
    store = new MemcachedStore({ servers: server.address });
  });
  after(async () => {
    await store.close();
    await server.stop();
  });

  it('sends TTLs over 30 days as absolute times, so the item lives (not expired as a 1970 date)', async () => {
    const key = 'session:long-ttl';
    assert.equal(await store.create(key, 'v', 31 * DAY), true);
    assert.equal(String(await store.get(key)), 'v');
    const left = await ttlOf(server.port, key);
    // memcached's clock ticks once a second and converts an absolute expiry against its own start
    // time, so the remaining time it reports can read a couple of seconds long.
    assert.ok(left !== null && left > 30 * 86400 && left <= 31 * 86400 + 3, `remaining TTL ${left}s`);
    const got = await store.get(key, 45 * DAY); // GAT with a long TTL too
    assert.ok(got);
    assert.ok((await ttlOf(server.port, key))! > 44 * 86400);
    assert.deepEqual(await store.replace(key, got, 'w', 60 * DAY), { status: 'ok' });
    assert.ok((await ttlOf(server.port, key))! > 59 * 86400);
    await store.touch(key, 40 * DAY);
    assert.ok((await ttlOf(server.port, key))! > 39 * 86400);
  });

  it('rounds TTLs up to whole seconds', async () => {
    await store.create('session:short', 'v', 1500);
    assert.equal(await ttlOf(server.port, 'session:short'), 2);
    await store.create('session:tiny', 'v', 1);
    assert.equal(await ttlOf(server.port, 'session:tiny'), 1);
  });

  it('refuses a value over the item limit before sending, naming size and limit; nothing is stored', async () => {
    const key = `session:${ID}`;
    const room = 1024 * 1024 - key.length - ITEM_OVERHEAD;
    await assert.rejects(store.create(key, Buffer.alloc(room + 1, 1), 60_000), (error: unknown) => {
      assert.ok(error instanceof SessionTooLargeError);
      assert.equal(error.size, room + 1);
      assert.equal(error.limit, room);
      assert.match(error.message, new RegExp(`${room + 1} bytes, over the memcached item limit .*${room} bytes`));
      return true;
    });
    assert.equal(await store.get(key), null, 'nothing half-written');
    // The limit is not stricter than the server: exactly `room` bytes are accepted.
    assert.equal(await store.create(key, Buffer.alloc(room, 1), 60_000), true);
    const stored = await store.get(key);
    assert.equal(Buffer.byteLength(stored as Buffer), room);
    // A too-large replace leaves the stored session as it was.
    await assert.rejects(store.replace(key, stored!, Buffer.alloc(room + 1, 2), 60_000), SessionTooLargeError);
    assert.equal(Buffer.byteLength((await store.get(key)) as Buffer), room);
  });

  it('honours a smaller itemLimit (memcached -I)', async () => {
    const small = new MemcachedStore({ servers: server.address, itemLimit: 4096 });
    await assert.rejects(small.create('session:small', 'x'.repeat(4096), 60_000), /over the memcached item limit/);
    assert.equal(await small.get('session:small'), null);
    await small.close();
  });

  it('keys over 250 bytes are impossible: the longest core key fits, a longer one is refused', async () => {
    const longest = `${'p'.repeat(100)}${ID}`; // keyPrefix is at most 100 characters, ids 43
    assert.ok(Buffer.byteLength(longest) <= 250);
    assert.equal(await store.create(longest, 'v', 60_000), true);
    await assert.rejects(store.get('k'.repeat(251)), /at most|1 to 250 bytes/);
    await assert.rejects(store.get('has space'), RangeError);
  });

  it('replaces in one round trip after a read, and reads in one (GET, or GAT when rolling)', async () => {
    const client = memjs.Client.create(server.address) as unknown as MemjsClientLike & { servers: Array<{ write(b: Uint8Array): void }> };
    let writes = 0;
    const target = client.servers[0]!;
    const write = target.write.bind(target);
    target.write = (blob) => (writes++, write(blob));
    const counted = new MemcachedStore({ client });
    const key = 'session:trips';
    const count = async (call: () => Promise<unknown>) => ((writes = 0), await call(), writes);
    assert.equal(await count(() => counted.create(key, 'v1', 60_000)), 1);
    let got: Awaited<ReturnType<MemcachedStore['get']>> = null;
    assert.equal(await count(async () => (got = await counted.get(key))), 1);
    assert.equal(await count(() => counted.replace(key, got!, 'v2', 60_000)), 1);
    assert.equal(await count(async () => (got = await counted.get(key, 60_000))), 1);
    assert.equal(await count(() => counted.replace(key, got!, 'v3', 60_000)), 1);
    await counted.close();
    client.close(); // the application's client: the store left it open
  });

  it('a CAS token that went stale (another writer) is caught: conflict with the current value', async () => {
    const key = 'session:stale-cas';
    await store.create(key, 'base', 60_000);
    const mine = await store.get(key);
    const other = new MemcachedStore(server.address);
    assert.deepEqual(await other.replace(key, 'base', 'theirs', 60_000), { status: 'ok' });
    const result = await store.replace(key, mine!, 'mine', 60_000);
    assert.equal(result.status, 'conflict');
    assert.equal(result.status === 'conflict' && String(result.current), 'theirs');
    await other.close();
  });

  it('validates its options with errors that name the option', () => {
    assert.throws(() => new MemcachedStore('not a host list, really'), (e: unknown) => e instanceof SessionOptionsError && e.option === 'memcached');
    assert.throws(() => new MemcachedStore({ itemLimit: 0 }), /memcached\.itemLimit/);
    assert.throws(() => new MemcachedStore({ servers: 'a:1', bogus: 1 } as never), /memcached\.bogus/);
    assert.throws(() => qsession({ type: 'memcached', memcached: 'a:1:2:3' }), /option "memcached"/);
  });
});

/**
 * The store drives memjs below its public API (protocol.ts), so it is pinned to the memjs versions
 * these specs run. When memjs moves (a newer release installed, the range widened), this fails
 * first and says what to re-check, instead of sessions failing at run time.
 */
describe('memjs internals: pinned and checked', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { peerDependencies: Record<string, string> };
  const installed = (createRequire(import.meta.url)('memjs/package.json') as { version: string }).version;

  it('the installed memjs is within the pinned peer range (a ~ range: these specs run it)', () => {
    assert.equal(pkg.peerDependencies.memjs, MEMJS_RANGE, 'package.json peerDependencies.memjs is the range protocol.ts was checked against');
    const [, major, minor, patch] = /^~(\d+)\.(\d+)\.(\d+)$/.exec(MEMJS_RANGE) ?? [];
    const [iMajor, iMinor, iPatch] = installed.split('.').map(Number);
    assert.ok(
      iMajor === Number(major) && iMinor === Number(minor) && iPatch! >= Number(patch),
      `memjs ${installed} is installed but the memcached store is pinned to ${MEMJS_RANGE}: check protocol.ts's use of ` +
        'client.seq / incrSeq / getServer and server.onResponse / onError / write against it, then move MEMJS_RANGE and the peer range together',
    );
  });

  it('the installed memjs has every internal the store drives, and a request is matched to its response by seq', async () => {
    const server = await startMemcached();
    const client = memjs.Client.create(server.address, { logger: { log: () => undefined } }) as unknown as ProtocolClient;
    try {
      assert.deepEqual(missingMemjsInternals(client), []);
      const before = client.seq;
      const replies = await Promise.all(['a', 'b', 'c'].map((key) => send(client, { opcode: Opcode.get, key: `missing-${key}` })));
      assert.deepEqual(replies.map((r) => r.header.status), [Status.notFound, Status.notFound, Status.notFound]);
      assert.equal(client.seq - before, 3, 'incrSeq() moves seq by one per request');
    } finally {
      client.close();
      await server.stop();
    }
  });

  it('a memjs client without them (memjs 1.3.0 has no getServer) is refused at start-up, naming what is missing', () => {
    const real = memjs.Client.create('127.0.0.1:1', { logger: { log: () => undefined } });
    const older = Object.assign(Object.create(real) as object, { getServer: undefined }) as unknown as MemjsClientLike;
    assert.throws(
      () => new MemcachedStore({ client: older }),
      (e: unknown) => e instanceof SessionOptionsError && e.option === 'memcached.client' && /memjs ~1\.3\.2.*client\.getServer\(\)/.test(e.message),
    );
    real.close();
  });
});

/** Rejects if `call` has not settled within `ms`, as the core's `storeTimeout` does for every store call. */
function bounded<T>(call: Promise<T>, ms = 2000): Promise<T> {
  return Promise.race([call, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`memcached: no answer within ${ms} ms`)), ms).unref())]);
}

describe('MemcachedStore on two servers', () => {
  let a: MemcachedServer;
  let b: MemcachedServer;
  before(async () => {
    [a, b] = await Promise.all([startMemcached(), startMemcached()]);
  });
  after(async () => {
    await a.stop();
    await b.stop();
  });

  it('spreads keys over both servers, each key on exactly one', async () => {
    const store = new MemcachedStore(`${a.address},${b.address}`);
    const keys = Array.from({ length: 40 }, (_, i) => `session:spread-${i}`);
    for (const key of keys) assert.equal(await store.create(key, key, 60_000), true);
    const [onA, onB] = [await keysOn(a.port), await keysOn(b.port)];
    assert.ok(onA.length > 0 && onB.length > 0, `keys on a: ${onA.length}, on b: ${onB.length}`);
    assert.deepEqual([...onA, ...onB].sort(), [...keys].sort());
    for (const key of onA) assert.equal(homeOf(key, 2), 0);
    for (const key of keys) assert.equal(String(await store.get(key)), key);
    await store.close();
  });

  it('a server killed mid-test: its sessions fail with 503 (or go anonymous), the others work, and a destroyed session never comes back', async () => {
    const servers = `${a.address},${b.address}`;
    const app = await startSessionApp({ type: 'memcached', memcached: servers, storeTimeout: 1000 });
    const lenient = await startSessionApp({ type: 'memcached', memcached: servers, storeTimeout: 1000, onStoreError: 'anonymous' });
    try {
      const ids: Array<string | undefined> = [undefined, undefined];
      while (!ids[0] || !ids[1]) {
        const { id } = await app.request('/set?v=kept');
        assert.ok(id);
        ids[homeOf(`session:${id}`, 2)] ??= id;
      }
      const [onA, onB] = ids as [string, string];
      // One more session on b, destroyed while b is up: it must stay destroyed.
      let destroyed: string | undefined;
      while (!destroyed) {
        const { id } = await app.request('/set?v=gone');
        if (homeOf(`session:${id}`, 2) === 1) destroyed = id;
      }
      assert.equal((await app.request('/logout', destroyed)).id, '');

      await b.stop();
      const started = Date.now();
      assert.equal((await app.request('/get', onB)).status, 503, 'a session on the dead server: 503');
      assert.ok(Date.now() - started < 2500, 'answered within the store timeout');
      assert.equal((await app.request('/logout', onB)).status, 503, 'a destroy that cannot happen is reported, not claimed');
      assert.deepEqual(await lenient.request('/get', onB).then((r) => [r.status, r.body]), [200, 'none']);
      assert.equal((await app.request('/get', onA)).body, 'kept', 'sessions on the other server still work');
      // New sessions whose id hashes to b fail rather than land on a (no failover: nothing to come back later).
      for (let i = 0; i < 6; i++) {
        const response = await app.request('/set?v=new');
        assert.ok(response.status === 200 || response.status === 503);
      }
      assert.ok((await keysOn(a.port)).every((key) => homeOf(key, 2) === 0), 'no key of b was written to a');

      b = await b.restart();
      assert.equal((await app.request('/get', destroyed)).body, 'none', 'the destroyed session did not come back');
      assert.equal((await app.request('/get', onB)).body, 'none', 'b restarted empty: a fresh session, not an error');
      // Recovery without restarting the app: sessions on b work again.
      let recovered = false;
      for (let i = 0; i < 20 && !recovered; i++) {
        const { id, status } = await app.request('/set?v=back');
        assert.equal(status, 200);
        recovered = homeOf(`session:${id}`, 2) === 1 && (await app.request('/get', id)).body === 'back';
      }
      assert.ok(recovered);
    } finally {
      await app.close();
      await lenient.close();
    }
  });

  it('with an application client that has memjs failover on, keys still never move to another server', async () => {
    // `bun test` kills the processes a test spawned when that test ends ("dangling"): the server
    // the previous test restarted may be gone here. Node's runner leaves it running.
    if (b.child.exitCode !== null || b.child.signalCode !== null) b = await b.restart();
    const client = memjs.Client.create(`${a.address},${b.address}`, { failover: true, retries: 1, timeout: 0.3, logger: { log: () => undefined } });
    const store = new MemcachedStore({ client: client as unknown as MemjsClientLike });
    let key = '';
    for (let i = 0; homeOf(key, 2) !== 1 || !key; i++) key = `session:failover-${i}`;
    assert.equal(await store.create(key, 'v1', 60_000), true);
    await b.stop();
    // On Node the store's own error comes first. On Bun, memjs's socket to the dead server never
    // reports the refused connection, so the call would wait forever: in an app the core's
    // `storeTimeout` ends it (503), and here the same kind of bound does.
    await assert.rejects(bounded(store.get(key)), /memcached/);
    await assert.rejects(bounded(store.delete(key)));
    assert.ok(!(await keysOn(a.port)).includes(key));
    // memjs's own failover would have written it to a: the danger the store avoids.
    await client.set(key, 'stand-in', { expires: 60 });
    assert.ok((await keysOn(a.port)).includes(key), 'memjs failover moved the key to a');
    b = await b.restart();
    assert.equal(await store.get(key), null, 'the store asks the key\'s home server only');
    await store.close();
    client.close();
  });
});
