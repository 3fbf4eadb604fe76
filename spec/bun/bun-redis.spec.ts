import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BunRedisStore } from 'koa-qsession/bun-redis';
import { freePort, startServer, type ServerProcess } from '../support/process.js';
import { storeContract } from '../support/store-contract.js';

// Bun's own Redis client exists only under Bun; on Node this file says so and skips.
const onBun = 'Bun' in globalThis;

/** A throwaway redis-server on a free port (never the machine's own on 6379), keeping nothing on disk. */
async function startRedis(): Promise<ServerProcess> {
  const port = await freePort();
  return startServer('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], port);
}

if (!onBun) {
  it('BunRedisStore (runs under Bun only)', { skip: 'needs the Bun global: run `npm run test:bun`' }, () => undefined);
  it('BunRedisStore refuses to start without Bun, naming the alternative', () => {
    assert.throws(() => new BunRedisStore(), /needs Bun.*"redis" store/);
  });
} else {
  storeContract('bun-redis', async () => {
    const server = await startRedis();
    const store = new BunRedisStore({ url: `redis://127.0.0.1:${server.port}` });
    return { store, cleanup: async () => (await store.close(), await server.stop()) };
  });

  describe('BunRedisStore on bytes that are not UTF-8', () => {
    let server: ServerProcess;
    let store: BunRedisStore;
    const bytes = Uint8Array.from([0x80, 0xff, 0x00, 0xc3, 0x28, 0xef, 0xbf, 0xbd]);
    before(async () => {
      server = await startRedis();
      store = new BunRedisStore({ url: `redis://127.0.0.1:${server.port}` });
    });
    after(async () => {
      await store.close();
      await server.stop();
    });

    it('get with a TTL refresh gives the bytes back exactly', async () => {
      await store.create('bin:get', bytes, 60_000);
      assert.deepEqual(Buffer.from((await store.get('bin:get', 60_000)) as Uint8Array), Buffer.from(bytes));
    });

    it('a conflict reports the current bytes exactly', async () => {
      await store.create('bin:cas', bytes, 60_000);
      const result = await store.replace('bin:cas', 'something else', 'mine', 60_000);
      assert.equal(result.status, 'conflict');
      assert.ok(result.status === 'conflict');
      assert.deepEqual(Buffer.from(result.current as Uint8Array), Buffer.from(bytes));
    });

    it('replace compares raw bytes with raw bytes', async () => {
      await store.create('bin:ok', bytes, 60_000);
      assert.deepEqual(await store.replace('bin:ok', bytes, Uint8Array.from([1, 2]), 60_000), { status: 'ok' });
      assert.deepEqual(Buffer.from((await store.get('bin:ok')) as Uint8Array), Buffer.from([1, 2]));
    });

    it('a client passed in stays open after close()', async () => {
      const own = new BunRedisStore({ url: `redis://127.0.0.1:${server.port}` });
      const borrowed = new BunRedisStore({ client: own.client });
      await borrowed.close();
      assert.equal(await borrowed.get('bin:none'), null);
      await own.close();
    });
  });
}
