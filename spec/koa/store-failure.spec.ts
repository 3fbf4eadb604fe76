import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import Koa from 'koa';
import { MemoryStore, qsession, session, SessionStoreError, type QSessionOptions, type SessionStore } from 'koa-qsession';
import { Client, serve, type Served } from '../support/http.js';

/**
 * A memory store that can be switched into failing: rejecting, or never answering. The memory store
 * cannot fail on its own, so this is the one place a fault is simulated; real outages of Redis and
 * memcached are tested against real servers in their own specs.
 */
class FaultyStore implements SessionStore {
  readonly name = 'faulty';
  mode: 'ok' | 'reject' | 'hang' = 'ok';
  readonly inner = new MemoryStore();
  private call<T>(run: () => Promise<T>): Promise<T> {
    if (this.mode === 'reject') return Promise.reject(new Error('connection refused'));
    if (this.mode === 'hang') return new Promise<T>(() => undefined);
    return run();
  }
  get = (key: string, ttl?: number) => this.call(() => this.inner.get(key, ttl));
  create = (key: string, value: string | Uint8Array, ttl: number) => this.call(() => this.inner.create(key, value, ttl));
  replace = (key: string, e: string | Uint8Array, v: string | Uint8Array, ttl: number) => this.call(() => this.inner.replace(key, e, v, ttl));
  delete = (key: string) => this.call(() => this.inner.delete(key));
  deleteIf = (key: string, e: string | Uint8Array) => this.call(() => this.inner.deleteIf(key, e));
  touch = (key: string, ttl: number) => this.call(() => this.inner.touch(key, ttl));
}

const servers: Served[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

async function start(options: QSessionOptions = {}) {
  const store = new FaultyStore();
  const app = new Koa();
  app.silent = true;
  const sessions = qsession({ store, storeTimeout: 200, ...options });
  const errors: SessionStoreError[] = [];
  sessions.on('store-error', ({ error }) => errors.push(error));
  app.use(sessions);
  app.use((ctx) => {
    if (ctx.path === '/set') session.n = 1;
    ctx.body = `n=${String(session.n)}`;
  });
  const served = await serve(app);
  servers.push(served);
  const browser = new Client(served.url);
  await browser.get('/set');
  return { store, browser, errors, url: served.url };
}

describe('a failing store', () => {
  it('answers 503 by default, and the next request works once the store is back', async () => {
    const { store, browser, errors } = await start();
    store.mode = 'reject';
    const reply = await browser.get('/');
    assert.equal(reply.status, 503);
    assert.doesNotMatch(reply.text, /connection refused/, 'store details are not shown to the client');
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof SessionStoreError);
    assert.equal(errors[0].operation, 'get');
    store.mode = 'ok';
    assert.equal((await browser.get('/')).text, 'n=1');
  });

  it('a store that never answers is cut off at storeTimeout', async () => {
    const { store, browser, errors } = await start();
    store.mode = 'hang';
    const started = Date.now();
    const reply = await browser.get('/');
    assert.equal(reply.status, 503);
    assert.ok(Date.now() - started < 1500, 'bounded by storeTimeout');
    assert.match(errors[0]!.message, /did not answer within 200 ms/);
  });

  it('a failed write answers 503 too', async () => {
    const { store, browser } = await start();
    store.mode = 'ok';
    const before = store.get;
    store.get = (key, ttl) => before(key, ttl).finally(() => (store.mode = 'reject'));
    assert.equal((await browser.get('/set')).status, 503);
  });

  it('onStoreError "anonymous" carries on without a session', async () => {
    const { store, browser } = await start({ onStoreError: 'anonymous' });
    store.mode = 'reject';
    const reply = await browser.get('/');
    assert.equal(reply.status, 200);
    assert.equal(reply.text, 'n=undefined');
  });

  it('onStoreError as a function decides', async () => {
    const seen: string[] = [];
    const { store, browser } = await start({
      onStoreError: (error, ctx) => {
        seen.push(`${error.operation} ${ctx.path}`);
      },
    });
    store.mode = 'reject';
    assert.equal((await browser.get('/')).status, 200);
    assert.deepEqual(seen, ['get /']);
  });
});
