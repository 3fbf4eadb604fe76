import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { RedisStore } from 'koa-qsession';
import { createApp } from '../../example-app/app.js';
import { storeOptionsFromEnv } from '../../example-app/store-from-env.js';
import { startStandalone, type Standalone } from '../support/redis.js';

describe('the example app on Redis (SESSION_TYPE=redis REDIS_URL=...)', () => {
  let redis: Standalone;
  before(async () => {
    redis = await startStandalone();
  });
  after(async () => {
    await redis?.cleanup();
  });

  it('logs in, remembers the login in Redis, logs out', async () => {
    const { app, sessions } = createApp(storeOptionsFromEnv({ SESSION_TYPE: 'redis', REDIS_URL: redis.server.url }));
    assert.ok(sessions.store instanceof RedisStore);
    await sessions.store.connect(); // so the first request does not wait for node-redis to load
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const login = await fetch(`${base}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'username=ada&password=secret',
        redirect: 'manual',
      });
      const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
      const id = cookie.slice('session='.length);
      assert.equal((await redis.server.cli('EXISTS', `session:${id}`)).trim(), '1');
      assert.match(await (await fetch(`${base}/`, { headers: { cookie } })).text(), /Welcome back!/);
      await fetch(`${base}/logout`, { method: 'POST', headers: { cookie }, redirect: 'manual' });
      assert.equal((await redis.server.cli('EXISTS', `session:${id}`)).trim(), '0');
      assert.match(await (await fetch(`${base}/`, { headers: { cookie } })).text(), /Welcome anonymous!/);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await sessions.close();
    }
  });
});
