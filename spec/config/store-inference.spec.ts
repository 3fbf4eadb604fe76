/**
 * `qsession({ redis: url })` without `type` used to run on the memory store, silently: sessions
 * vanished on restart and were not shared. The store is now inferred from its sub-option, over real
 * HTTP on real servers; a contradiction is a start-up error.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { qsession, SessionOptionsError, MemoryStore, type QSessionOptions } from 'koa-qsession';
import { startSessionApp } from '../support/session-app.js';
import { startMemcached, type MemcachedServer } from '../support/memcached.js';
import { tempDir } from '../support/process.js';
import { startStandalone, type Standalone } from '../support/redis.js';

let redis: Standalone;
let memcached: MemcachedServer;
const dir = tempDir('qsession-infer');
before(async () => {
  [redis, memcached] = await Promise.all([startStandalone(), startMemcached()]);
});
after(async () => {
  await Promise.all([redis.cleanup(), memcached.stop()]);
  dir.remove();
});

/** A session set through one app is read through a second app started with the same options (a restart). */
async function survivesRestart(options: QSessionOptions): Promise<{ id: string; storeName: string }> {
  const first = await startSessionApp({ storeTimeout: 5000, ...options });
  const storeName = first.sessions.store.name;
  const set = await first.request('/set?v=kept');
  assert.equal(set.status, 200);
  assert.ok(set.id);
  await first.close();
  const second = await startSessionApp({ storeTimeout: 5000, ...options });
  try {
    assert.equal((await second.request('/get', set.id)).body, 'kept', 'the session outlived the app');
  } finally {
    await second.close();
  }
  return { id: set.id, storeName };
}

describe('the store is inferred from its sub-option when `type` is absent', () => {
  it('{ redis: url }: Redis (the key is in redis-server)', async () => {
    const { id, storeName } = await survivesRestart({ redis: redis.server.url });
    assert.equal(storeName, 'redis');
    assert.match(await redis.server.cli('GET', `session:${id}`), /"v":"kept"/);
  });

  it('{ memcached: "host:port" }: memcached', async () => {
    const { storeName } = await survivesRestart({ memcached: memcached.address });
    assert.equal(storeName, 'memcached');
  });

  it('{ directory }: the filesystem store (one file per session)', async () => {
    const { storeName } = await survivesRestart({ directory: dir.path });
    assert.equal(storeName, 'filesystem');
    assert.ok(existsSync(dir.path) && readdirSync(dir.path).length > 0);
  });

  it('nothing given: the memory store, as before', () => {
    assert.equal(qsession().store.name, 'memory');
  });
});

describe('a store contradiction fails at start-up', () => {
  const refused = (options: QSessionOptions, option: string, message: RegExp) =>
    assert.throws(() => qsession(options), (error: unknown) => {
      assert.ok(error instanceof SessionOptionsError, String(error));
      assert.equal(error.option, option);
      assert.match(error.message, message);
      return true;
    });

  it('`type` naming another store than the sub-option given', () => {
    refused({ type: 'memory', redis: 'redis://127.0.0.1:1' }, 'type', /"memory" but "redis" is an option of the redis store/);
    refused({ type: 'redis', directory: dir.path }, 'type', /"directory" is an option of the filesystem store/);
    refused({ type: 'filesystem', memcached: '127.0.0.1:1' }, 'type', /memcached store/);
  });

  it('sub-options of two stores', () => {
    refused({ redis: 'redis://127.0.0.1:1', memcached: '127.0.0.1:1' }, 'redis', /"memcached" are options of different stores/);
  });

  it('a sub-option next to your own `store`', () => {
    refused({ store: new MemoryStore(), redis: 'redis://127.0.0.1:1' }, 'store', /"redis" would be ignored/);
  });

  it('`type` with its own sub-option stays fine', () => {
    const sessions = qsession({ type: 'filesystem', directory: dir.path, filesystem: { sweepInterval: 60_000 } });
    assert.equal(sessions.store.name, 'filesystem');
    return sessions.close();
  });
});
