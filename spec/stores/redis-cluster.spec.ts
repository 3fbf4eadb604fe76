import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createCluster } from '../support/redis-driver.js';
import { RedisStore } from 'koa-qsession';
import { storeContract } from '../support/store-contract.js';
import { concurrencyCases } from '../support/redis-concurrency.js';
import { startApp } from '../support/redis-app.js';
import { startCluster, waitFor, type Cluster } from '../support/redis.js';

// One throwaway 3-master cluster for this file, started on first use.
let cluster: Promise<Cluster> | undefined;
const nodes = async () => (await (cluster ??= startCluster())).nodes;
after(async () => {
  await (await cluster)?.cleanup();
});

/** The way an application shares its cluster client: connected by the app, passed as `redis:`. */
async function clusterClient() {
  const client = createCluster({
    rootNodes: [{ url: (await nodes())[0]!.url }],
    defaults: { disableOfflineQueue: true },
  });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

async function clusterSubject() {
  const client = await clusterClient();
  return {
    store: new RedisStore(client),
    cleanup: async () => {
      client.destroy();
    },
  };
}

storeContract('redis cluster', clusterSubject);

concurrencyCases('redis cluster', clusterSubject);

describe('redis cluster: sessions spread over slots', () => {
  it('stores sessions on every master, and reads each back through the cluster client', async () => {
    const { store, cleanup } = await clusterSubject();
    const app = await startApp({ store });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 24; i++) ids.push((await app.request(`/set?n=${i}`)).cookie!);
      const counts = await Promise.all((await nodes()).map(async (node) => Number(await node.cli('DBSIZE'))));
      assert.ok(counts.every((count) => count > 0), `keys per master: ${counts.join(', ')}`);
      for (const [i, id] of ids.entries()) assert.deepEqual(JSON.parse((await app.request('/dump', id)).body), { n: String(i) });
      const slots = new Set(await Promise.all(ids.map(async (id) => (await nodes())[0]!.cli('CLUSTER', 'KEYSLOT', `session:${id}`))));
      assert.ok(slots.size > 20, 'random ids land in different slots');
    } finally {
      await app.close();
      await cleanup();
    }
  });

  it('the user index works across slots', async () => {
    const { store, cleanup } = await clusterSubject();
    try {
      const user = `user:${Date.now()}`;
      const keys = Array.from({ length: 6 }, (_, i) => `session:cluster-index-${Date.now()}-${i}`);
      for (const key of keys) {
        await store.create(key, 'x', 60_000);
        await store.userIndex!.add(user, key, 60_000);
      }
      await store.delete(keys[0]!);
      await store.delete(keys[3]!);
      assert.deepEqual((await store.userIndex!.list(user)).sort(), [keys[1], keys[2], keys[4], keys[5]].sort());
    } finally {
      await cleanup();
    }
  });
});

describe('redis cluster: option `lock`', () => {
  it('a session key and its lease key hash to different slots: no combined release, the lease is released on its own', async () => {
    const { store, cleanup } = await clusterSubject();
    try {
      assert.equal(store.replaceAndRelease, undefined);
      const app = await startApp({ store, lock: true });
      try {
        const id = (await app.request('/set?a=1')).cookie!;
        assert.equal((await app.request('/set?a=2', id)).status, 200);
        // Released by its own compare-and-delete once the write has landed (it may still be on its way).
        await waitFor('the lease released', async () => (await store.get(`session:${id}:lock`)) === null, 2000);
        assert.equal(String(await store.get(`session:${id}`)), '{"_permanent":true,"a":"2"}');
      } finally {
        await app.close();
      }
    } finally {
      await cleanup();
    }
  });
});
