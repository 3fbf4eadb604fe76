/**
 * Issue 24 part 6: a value the serializer cannot store is refused where it is assigned when that is
 * cheap (a function, a Symbol, a Map / Set, a class instance, NaN), with the key, and the verdict is
 * the configured serializer's (v8 keeps a Map, JSON does not); what is found only by walking the
 * value (a cycle, a function deep inside) still fails at commit, naming the key path; and
 * `SessionTooLargeError` names the largest keys. Real Koa apps over HTTP.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import Koa from 'koa';
import {
  qsession,
  session,
  SessionSerializationError,
  SessionTooLargeError,
  type QSessionMiddleware,
  type QSessionOptions,
} from 'koa-qsession';
import { Client, serve, type Served } from '../support/http.js';

class Cart {
  items: string[] = [];
}

/** The values the routes assign, by name. */
const VALUES: Record<string, () => unknown> = {
  function: () => () => 1,
  symbol: () => Symbol('s'),
  map: () => new Map([['a', 1]]),
  set: () => new Set([1]),
  instance: () => new Cart(),
  nan: () => NaN,
  date: () => new Date(0),
  bigint: () => 10n,
  buffer: () => Buffer.from('hi'),
  plain: () => ({ a: [1, 'b'] }),
};

const served: Served[] = [];
const middlewares: QSessionMiddleware[] = [];
after(async () => {
  await Promise.all(served.map((s) => s.close()));
  await Promise.all(middlewares.map((m) => m.close()));
});

interface Outcome {
  /** Where the assignment threw: the error's name, path, and whether its stack names this file. */
  assigned: { name: string; path?: string; message: string; fromHandler: boolean } | 'ok';
}

async function startApp(options: QSessionOptions): Promise<{ client: Client; errors: unknown[] }> {
  const sessions = qsession({ type: 'memory', ...options });
  middlewares.push(sessions);
  const app = new Koa();
  app.silent = true;
  const errors: unknown[] = [];
  app.on('error', (error: unknown) => errors.push(error));
  app.use(sessions);
  app.use((ctx) => {
    const [, route, name] = ctx.path.split('/');
    if (route === 'assign') {
      let outcome: Outcome;
      try {
        session.value = VALUES[name!]!(); // the handler's own line
        outcome = { assigned: 'ok' };
      } catch (error) {
        const e = error as SessionSerializationError;
        outcome = { assigned: { name: e.name, path: e.path, message: e.message, fromHandler: (e.stack ?? '').includes('unstorable-values.spec.ts') } };
      }
      ctx.body = outcome;
    } else if (route === 'cycle') {
      const value: Record<string, unknown> = { name: 'ann' };
      value.self = value;
      session.profile = value; // accepted here: finding a cycle means walking the value
      ctx.body = 'assigned';
    } else if (route === 'deep-function') {
      session.prefs = { theme: 'dark', onChange: () => undefined };
      ctx.body = 'assigned';
    } else if (route === 'big') {
      session.small = 'x';
      session.photo = 'p'.repeat(3000);
      session.notes = 'n'.repeat(1000);
      session.history = Array.from({ length: 200 }, (_, i) => i);
      ctx.body = 'assigned';
    } else ctx.body = JSON.stringify(session.toJSON());
  });
  const server = await serve(app);
  served.push(server);
  return { client: new Client(server.url), errors };
}

async function assign(client: Client, name: string): Promise<Outcome['assigned']> {
  const reply = await client.get(`/assign/${name}`);
  assert.equal(reply.status, 200, reply.text);
  return (JSON.parse(reply.text) as Outcome).assigned;
}

describe('values that cannot be stored, refused where they are assigned', () => {
  it('tagged JSON (the default): a function, Symbol, Map, Set, class instance and NaN throw on the handler line, naming the key', async () => {
    const { client } = await startApp({});
    for (const name of ['function', 'symbol', 'map', 'set', 'instance', 'nan']) {
      const outcome = await assign(client, name);
      assert.notEqual(outcome, 'ok', name);
      if (outcome === 'ok') continue;
      assert.equal(outcome.name, 'SessionSerializationError', name);
      assert.equal(outcome.path, 'value', name);
      assert.match(outcome.message, /"value"/, name);
      assert.ok(outcome.fromHandler, `${name}: the stack names the handler's file`);
    }
    // What tagged JSON stores passes: a Date, a BigInt (a Python int), bytes, plain data.
    for (const name of ['date', 'bigint', 'buffer', 'plain']) assert.equal(await assign(client, name), 'ok', name);
    assert.match((await client.get('/')).text, /"value":\{"a":\[1,"b"\]\}/, 'the last accepted value was stored');
  });

  it('the verdict is the serializer\'s: JSON refuses a Date and a Buffer; v8 keeps a Map, a Set, NaN and a BigInt', async () => {
    const json = (await startApp({ serializer: 'json' })).client;
    for (const name of ['date', 'buffer', 'map', 'bigint', 'nan', 'function']) {
      const outcome = await assign(json, name);
      assert.ok(outcome !== 'ok' && outcome.name === 'SessionSerializationError' && outcome.path === 'value', `json ${name}: ${JSON.stringify(outcome)}`);
    }
    assert.equal(await assign(json, 'plain'), 'ok');
    const v8 = (await startApp({ serializer: 'v8' })).client;
    for (const name of ['map', 'set', 'nan', 'bigint', 'date', 'buffer', 'plain']) assert.equal(await assign(v8, name), 'ok', `v8 ${name}`);
    for (const name of ['function', 'symbol', 'instance']) {
      const outcome = await assign(v8, name);
      assert.ok(outcome !== 'ok' && outcome.name === 'SessionSerializationError' && outcome.path === 'value', `v8 ${name}: ${JSON.stringify(outcome)}`);
    }
  });

  it('a cycle or a function deep inside a plain value still fails at commit, naming the key path', async () => {
    const { client, errors } = await startApp({});
    assert.equal((await client.get('/cycle')).status, 500);
    const cycle = errors.pop() as SessionSerializationError;
    assert.ok(cycle instanceof SessionSerializationError);
    assert.equal(cycle.path, 'profile.self');
    assert.equal((await client.get('/deep-function')).status, 500);
    const deep = errors.pop() as SessionSerializationError;
    assert.ok(deep instanceof SessionSerializationError);
    assert.equal(deep.path, 'prefs.onChange');
  });

  it('SessionTooLargeError names the three largest keys, biggest first, with their sizes', async () => {
    const { client, errors } = await startApp({ maxSize: 2048 });
    assert.equal((await client.get('/big')).status, 500);
    const error = errors.pop() as SessionTooLargeError;
    assert.ok(error instanceof SessionTooLargeError, String(error));
    assert.deepEqual(error.largest.map(({ key }) => key), ['photo', 'notes', 'history']);
    assert.ok(error.largest[0]!.bytes > 3000 && error.largest[0]!.bytes < 3020, String(error.largest[0]!.bytes));
    assert.match(error.message, /largest keys: "photo" \(\d+ bytes\), "notes" \(\d+ bytes\), "history" \(\d+ bytes\)/);
    assert.ok(error.size > 2048);
  });
});
