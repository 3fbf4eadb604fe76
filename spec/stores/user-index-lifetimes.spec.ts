// "Log out everywhere" reaches every session of the user, on every store with a user index, when
// the user's sessions have different lifetimes: a long "remember me" session on one device, a short
// one on another that expired first. Real stores: Redis (a throwaway redis-server), the filesystem
// (a temp dir) and memory; lifetimes in ms so the short session expires while the spec waits.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Koa from 'koa';
import { FilesystemStore, MemoryStore, qsession, RedisStore, session, type QSessionOptions, type SessionStore, type UserSessionIndex } from 'koa-qsession';
import { serve, type Served } from '../support/http.js';
import { tempDir } from '../support/process.js';
import { cli, startStandalone, type Standalone } from '../support/redis.js';

/** The short session's lifetime; the long one gets LONG. Margins are wide for a loaded machine. */
const SHORT = 400;
const LONG = 20_000;

const cleanups: Array<() => Promise<unknown> | unknown> = [];
after(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let redis: Promise<Standalone> | undefined;
async function redisStore(): Promise<SessionStore> {
  redis ??= startStandalone().then((server) => (cleanups.push(() => server.cleanup()), server));
  const store = new RedisStore((await redis).server.url);
  cleanups.push(() => store.close());
  return store;
}

function filesystemStore(): SessionStore {
  const dir = tempDir('user-index');
  const store = new FilesystemStore({ directory: dir.path });
  cleanups.push(() => dir.remove(), () => store.close());
  return store;
}

/** Each index.add's TTL, to check what the upkeep asks the store for. */
function recordingAdds(store: SessionStore): { store: SessionStore; adds: number[] } {
  const adds: number[] = [];
  const index = store.userIndex!;
  const userIndex: UserSessionIndex = {
    add: (userKey, sessionKey, ttlMs) => (adds.push(ttlMs), index.add(userKey, sessionKey, ttlMs)),
    remove: (userKey, sessionKey) => index.remove(userKey, sessionKey),
    list: (userKey) => index.list(userKey),
  };
  // The store's own methods, bound, plus the recording index.
  const wrapped: SessionStore = {
    name: store.name,
    get: (key, refresh) => store.get(key, refresh),
    create: (key, value, ttl) => store.create(key, value, ttl),
    replace: (key, expected, value, ttl) => store.replace(key, expected, value, ttl),
    delete: (key) => store.delete(key),
    deleteIf: (key, expected) => store.deleteIf(key, expected),
    touch: (key, ttl) => store.touch(key, ttl),
    userIndex,
  };
  return { store: wrapped, adds };
}

/** /login/:user[?ms=<this session's own lifetime>], /read, /set/:key, /touch (session.touch(), nothing written). */
async function app(options: QSessionOptions) {
  const sessions = qsession({ userKey: 'user_id', lifetime: SHORT, ...options });
  const koa = new Koa();
  koa.silent = true;
  koa.use(sessions);
  koa.use(async (ctx) => {
    const [, route, arg = ''] = ctx.path.split('/');
    if (route === 'login') {
      session.regenerate();
      session.user_id = arg;
      if (typeof ctx.query.ms === 'string') session.cookie.maxAge = Number(ctx.query.ms);
    } else if (route === 'set') {
      session.set(arg, String(Date.now()));
    } else if (route === 'touch') {
      session.touch();
    }
    ctx.body = JSON.stringify({ user: session.user_id ?? null });
  });
  const served: Served = await serve(koa);
  cleanups.push(() => served.close());
  return { sessions, device: () => new Device(served.url) };
}

/**
 * A browser that keeps its session cookie whatever its `expires` says: the short lifetimes here are
 * under the cookie date's one-second precision, and what is tested is the store, not the browser.
 */
class Device {
  private cookie: string | undefined;
  constructor(private readonly base: string) {}
  async get(path: string): Promise<{ text: string }> {
    const response = await fetch(this.base + path, { headers: this.cookie ? { cookie: this.cookie } : {} });
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(';')[0]!;
      if (pair.startsWith('session=') && pair !== 'session=') this.cookie = pair;
    }
    return { text: await response.text() };
  }
}

const stores: Array<[string, () => Promise<SessionStore> | SessionStore]> = [
  ['redis', redisStore],
  ['filesystem', filesystemStore],
  ['memory', () => new MemoryStore()],
];

for (const [name, make] of stores) {
  describe(`log out everywhere after the short session expired (${name})`, () => {
    it('remember me on the laptop, a short session on the phone: the laptop is still found and logged out', async () => {
      const { sessions, device } = await app({ store: await make() });
      const [laptop, phone] = [device(), device()];
      await laptop.get(`/login/ann?ms=${LONG}`);
      await phone.get('/login/ann');
      await sleep(SHORT * 2);
      assert.equal((await phone.get('/read')).text, '{"user":null}', 'the phone session expired');
      assert.deepEqual((await sessions.listUserSessions('ann')).length, 1, 'the laptop session is listed');
      assert.equal(await sessions.destroyUserSessions('ann'), 1);
      assert.equal((await laptop.get('/read')).text, '{"user":null}', 'the laptop is logged out');
    });

    it('rolling: reads keep the index entry for the session\'s own lifetime, not the default', async () => {
      const { store, adds } = recordingAdds(await make());
      const { sessions, device } = await app({ store, rolling: true });
      const [laptop, phone] = [device(), device()];
      await laptop.get(`/login/ann?ms=${LONG}`);
      await phone.get('/login/ann');
      adds.length = 0;
      assert.equal((await laptop.get('/read')).text, '{"user":"ann"}');
      assert.deepEqual(adds, [LONG], 'the rolling re-add asks for the laptop session\'s own lifetime');
      await sleep(SHORT * 2);
      assert.equal(await sessions.destroyUserSessions('ann'), 1);
      assert.equal((await laptop.get('/read')).text, '{"user":null}');
    });

    it('maxAge: writes that renew the idle TTL never outlive the index entry', async () => {
      const { sessions, device } = await app({ store: await make(), maxAge: LONG });
      const laptop = device();
      await laptop.get('/login/ann');
      // Each write renews the session's idle TTL (SHORT); the index entry was added once, at login.
      for (let i = 0; i < 3; i++) {
        await sleep(SHORT / 2);
        assert.equal((await laptop.get('/set/seen')).text, '{"user":"ann"}');
      }
      await sleep(SHORT / 2);
      // Past the login's own idle TTL, but alive through the writes.
      assert.equal(await sessions.destroyUserSessions('ann'), 1);
      assert.equal((await laptop.get('/read')).text, '{"user":null}');
    });

    // The lifecycle's touch path (core/commit.ts) restarts the session's TTL and does not call the
    // index upkeep yet; UserIndexUpkeep.touched() is ready for it. Memory and filesystem pass anyway
    // (their index follows the sessions themselves); Redis needs the call.
    it('session.touch() without a write: the index entry lives as long as the session', async () => {
      const { sessions, device } = await app({ store: await make() });
      const laptop = device();
      await laptop.get('/login/ann');
      for (let i = 0; i < 3; i++) {
        await sleep(SHORT / 2);
        await laptop.get('/touch');
      }
      await sleep(SHORT / 2);
      assert.equal(await sessions.destroyUserSessions('ann'), 1);
      assert.equal((await laptop.get('/read')).text, '{"user":null}');
    });
  });
}

describe('the Redis user set never shortens its TTL', () => {
  it('a 1-minute session after a 30-day one leaves the set at 30 days', async () => {
    const store = await redisStore();
    const port = (await redis!).server.port;
    const day = 24 * 60 * 60 * 1000;
    await store.create('s:laptop', 'a', 30 * day);
    await store.create('s:phone', 'b', 60_000);
    await store.userIndex!.add('u:ann', 's:laptop', 30 * day);
    await store.userIndex!.add('u:ann', 's:phone', 60_000);
    const ttl = Number(await cli(port, 'PTTL', 'u:ann'));
    assert.ok(ttl > 29 * day, `the set's PTTL is ${ttl} ms`);
    await store.userIndex!.add('u:bob', 's:phone', 60_000);
    const fresh = Number(await cli(port, 'PTTL', 'u:bob'));
    assert.ok(fresh > 0 && fresh <= 60_000, `a new set gets the TTL (${fresh} ms)`);
  });
});
