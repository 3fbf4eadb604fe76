/**
 * Issue 23's two sessions through the middleware, on a throwaway Redis: stored as a Python app left
 * them, read A then B through a Koa app, and B's `v` keeps its keys; a nested change to B writes them
 * back as stored, and Python reads them. Node 24.21's JSON.parse re-keys B after A (the guard in
 * src/serializers/runtime-json.ts keeps session text away from it); Node 22, 26 and Bun run it too
 * (scripts/test-matrix.mjs), where the same must hold.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import { qsession, session, type QSessionMiddleware } from 'koa-qsession';
import { runtimeJsonDefect } from '../../src/serializers/runtime-json.js';
import { PYTHON } from '../support/python.js';
import { startStandalone, type Standalone } from '../support/redis.js';
import { B_KEYS, B_KEYS_REKEYED, SESSION_A, SESSION_B } from './support/runtime-json-vectors.js';

const newId = () => randomBytes(32).toString('base64url');

describe('runtime JSON defect (issue 23): the two sessions through the middleware and Redis', () => {
  let redis: Standalone;
  let sessions: QSessionMiddleware;
  let server: ReturnType<Koa['listen']>;
  let base: string;

  before(async () => {
    redis = await startStandalone();
    sessions = qsession({ type: 'redis', redis: redis.server.url });
    const app = new Koa();
    app.silent = true;
    app.use(sessions);
    app.use((ctx) => {
      const v = session.get('v') as Record<string, unknown> | undefined;
      if (v === undefined) {
        ctx.status = 404; // the stored session was not read
        return;
      }
      // A nested change: the record notices it and writes `v` again, re-encoded.
      if (ctx.path === '/nest') v.n = 1;
      ctx.body = { keys: Object.keys(v) };
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await sessions?.close();
    await redis?.cleanup();
  });

  const store = async (text: string): Promise<string> => {
    const id = newId();
    assert.equal((await redis.server.cli('SET', `session:${id}`, text, 'EX', '600')).trim(), 'OK');
    return id;
  };
  const stored = async (id: string): Promise<string> => (await redis.server.cli('GET', `session:${id}`)).replace(/\n$/, '');
  const keysVia = async (path: string, id: string): Promise<string[]> => {
    const response = await fetch(`${base}${path}`, { headers: { cookie: `session=${id}` } });
    assert.equal(response.status, 200, await response.clone().text());
    return ((await response.json()) as { keys: string[] }).keys;
  };

  it("read A then B: B's v keeps its keys, also once other code in the process has had the engine parse A", async () => {
    const a = await store(SESSION_A);
    const b = await store(SESSION_B);
    assert.equal(await stored(b), SESSION_B, 'redis-cli stored the text as given');
    assert.deepEqual(await keysVia('/get', a), [' u', '\\', '\uea6b']);
    assert.deepEqual(await keysVia('/get', b), B_KEYS);
    // Anything else in the host process may have the engine parse such text: then B is read again.
    JSON.parse(SESSION_A);
    assert.deepEqual(await keysVia('/get', b), B_KEYS);
    // That left the engine in the state that re-keys B, on an affected runtime (so this case tests the guard there).
    assert.deepEqual(Object.keys((JSON.parse(SESSION_B) as { v: object }).v), runtimeJsonDefect() === undefined ? B_KEYS : B_KEYS_REKEYED);
    assert.equal(await stored(a), SESSION_A, 'reads wrote nothing');
    assert.equal(await stored(b), SESSION_B, 'reads wrote nothing');
  });

  it('a nested change to B writes its keys back as stored, and Python reads them', async () => {
    const a = await store(SESSION_A);
    const b = await store(SESSION_B);
    await keysVia('/get', a);
    JSON.parse(SESSION_A);
    assert.deepEqual(await keysVia('/nest', b), [...B_KEYS, 'n']);
    const written = await stored(b);
    assert.equal(written, `${SESSION_B.slice(0, -2)},"n":1}}`, 'only the change is new; every stored key byte for byte');
    const python = spawnSync(PYTHON, ['-c', 'import json, sys; print(json.dumps(list(json.loads(sys.stdin.read())["v"])))'], { input: written, encoding: 'utf8' });
    assert.equal(python.status, 0, python.stderr);
    assert.deepEqual(JSON.parse(python.stdout) as string[], [...B_KEYS, 'n']);
  });
});
