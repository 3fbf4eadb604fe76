import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createSentinel } from '../support/redis-driver.js';
import { RedisStore } from 'koa-qsession';
import { storeContract } from '../support/store-contract.js';
import { startApp } from '../support/redis-app.js';
import { sentinelMasterPort, startSentinel, waitFor, type Sentinel } from '../support/redis.js';

// One throwaway master + replica + sentinel for this file, started on first use.
let setup: Promise<Sentinel> | undefined;
const sentinel = () => (setup ??= startSentinel());
after(async () => {
  await (await setup)?.cleanup();
});

/** The way an application shares its sentinel client: connected by the app, passed as `redis:`. */
async function sentinelClient() {
  const { name, sentinel: node } = await sentinel();
  const client = createSentinel({ name, sentinelRootNodes: [{ host: '127.0.0.1', port: node.port }] });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

storeContract('redis sentinel', async () => {
  const client = await sentinelClient();
  return {
    store: new RedisStore(client),
    cleanup: async () => {
      client.destroy();
    },
  };
});

describe('redis sentinel failover', () => {
  it('sessions written before the master dies stay readable after failover', async () => {
    const setup = await sentinel();
    const client = await sentinelClient();
    const app = await startApp({ store: new RedisStore(client) });
    try {
      const sessions = new Map<string, string>();
      for (let i = 0; i < 5; i++) sessions.set((await app.request(`/set?n=${i}`)).cookie!, String(i));
      // Every write has reached the replica before the master goes.
      assert.equal((await setup.master.cli('WAIT', '1', '2000')).trim(), '1');
      await setup.master.stop();
      await waitFor('the sentinel to promote the replica', async () => (await sentinelMasterPort(setup)) === setup.replica.port, 20_000);

      // The sentinel client follows the new master; a request in between may see a 503.
      const [firstId] = sessions.keys();
      await waitFor('the client to follow the new master', async () => (await app.request('/dump', firstId)).status === 200, 10_000);
      for (const [id, n] of sessions) assert.deepEqual(JSON.parse((await app.request('/dump', id)).body), { n });

      // And the new master takes writes.
      const [id] = sessions.keys();
      assert.equal((await app.request('/set?after=failover', id)).status, 200);
      assert.deepEqual(JSON.parse((await app.request('/dump', id)).body), { n: '0', after: 'failover' });
    } finally {
      await app.close();
      client.destroy();
    }
  });
});
