import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { qsession, SessionStoreError, type QSessionMiddleware, type QSessionOptions } from 'koa-qsession';
import { startMemcached, type MemcachedServer } from '../support/memcached.js';
import { freePort, tempDir } from '../support/process.js';
import { createClient } from '../support/redis-driver.js';
import { startStandalone, type Standalone } from '../support/redis.js';

// `await middleware.ready()` before `app.listen()`: resolves once the store can be reached, rejects
// with a SessionStoreError (operation 'ready') when it cannot, within storeTimeout. Real servers,
// real closed ports, a real listener that never answers, a real directory removed.

/** Made with `options`, then `ready()` awaited; the middleware is always closed. */
async function readyOf(options: QSessionOptions): Promise<{ error: unknown }> {
  const middleware: QSessionMiddleware = qsession(options);
  try {
    await middleware.ready();
    return { error: undefined };
  } catch (error) {
    return { error };
  } finally {
    await middleware.close();
  }
}

function assertStoreError(error: unknown, message: RegExp): asserts error is SessionStoreError {
  assert.ok(error instanceof SessionStoreError, `a SessionStoreError, got ${String(error)}`);
  assert.equal(error.operation, 'ready');
  assert.equal(error.code, 'ERR_QSESSION_STORE');
  assert.match(error.message, message);
}

/** A TCP listener that accepts and never answers: a Redis or memcached that hangs. */
async function silentListener(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('middleware.ready(): Redis', () => {
  let redis: Standalone;
  before(async () => {
    redis = await startStandalone();
  });
  after(async () => redis?.cleanup());

  it("resolves once the store's own connection is open, before any request", async () => {
    const clients = async () => (await redis.server.cli('CLIENT', 'LIST')).trim().split('\n').length;
    const baseline = await clients();
    const middleware = qsession({ type: 'redis', redis: redis.server.url });
    try {
      assert.equal(await clients(), baseline, 'qsession() itself connects lazily');
      await middleware.ready();
      assert.equal(await clients(), baseline + 1, 'ready() opened the connection');
    } finally {
      await middleware.close();
    }
  });

  it('rejects with a SessionStoreError when nothing listens (a closed port): the refusal, not the timeout', async () => {
    const port = await freePort();
    // A long storeTimeout: the rejection comes from the refused connection, so the message says so.
    const { error } = await readyOf({ type: 'redis', redis: `redis://127.0.0.1:${port}`, storeTimeout: 30_000 });
    assertStoreError(error, new RegExp(`store ready failed: redis: not connected to redis://127\\.0\\.0\\.1:${port}.*ECONNREFUSED`));
  });

  it('rejects with a SessionStoreError after storeTimeout when the server accepts but never answers', async () => {
    const silent = await silentListener();
    try {
      const { error } = await readyOf({ type: 'redis', redis: `redis://127.0.0.1:${silent.port}`, storeTimeout: 300 });
      assertStoreError(error, /store ready failed: redis did not answer within 300 ms/);
    } finally {
      await silent.close();
    }
  });

  it('a client the application passed in: resolves when it is connected, rejects when it never was', async () => {
    const connected = await createClient({ url: redis.server.url }).connect();
    try {
      assert.equal((await readyOf({ type: 'redis', redis: connected })).error, undefined);
      assert.equal(connected.isOpen, true, 'and it stays open');
    } finally {
      connected.destroy();
    }
    const { error } = await readyOf({ type: 'redis', redis: createClient({ url: redis.server.url }) });
    assertStoreError(error, /not connected \(call `await client\.connect\(\)` first\)/);
  });
});

describe('middleware.ready(): memcached', () => {
  let memcached: MemcachedServer;
  before(async () => {
    memcached = await startMemcached();
  });
  after(async () => memcached?.stop());

  it('resolves when the server answers', async () => {
    assert.equal((await readyOf({ type: 'memcached', memcached: memcached.address })).error, undefined);
  });

  it('rejects with a SessionStoreError when nothing listens', async () => {
    const port = await freePort();
    const { error } = await readyOf({ type: 'memcached', memcached: `127.0.0.1:${port}`, storeTimeout: 5000 });
    assertStoreError(error, new RegExp(`store ready failed: memcached: memcached 127\\.0\\.0\\.1:${port}: connect ECONNREFUSED`));
  });
});

describe('middleware.ready(): filesystem and memory', () => {
  it('filesystem: resolves while the directory takes files; rejects once it is gone', async () => {
    const dir = tempDir('ready');
    const middleware = qsession({ type: 'filesystem', directory: dir.path });
    try {
      await middleware.ready();
      rmSync(dir.path, { recursive: true, force: true });
      await assert.rejects(middleware.ready(), (error: unknown) => {
        assertStoreError(error, /store ready failed: filesystem: .*ENOENT/);
        return true;
      });
    } finally {
      await middleware.close();
      dir.remove();
    }
  });

  it('memory: nothing to reach, resolves', async () => {
    assert.equal((await readyOf({ type: 'memory' })).error, undefined);
  });
});
