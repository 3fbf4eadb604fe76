import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisStore, SessionSerializationError, jsonSerializer, taggedJsonSerializer } from 'koa-qsession';
import { Client, serve } from '../support/http.js';
import { startStandalone, type Standalone } from '../support/redis.js';
import Koa from 'koa';
import { qsession, session } from 'koa-qsession';


/**
 * Issue 17, symmetric-limits row: the encoder refuses what the decoder would refuse, at write time,
 * with SessionSerializationError. Before, a value nested deeper than the decoder's 1000 levels was
 * written with a 200, and the next request could not read it and deleted the whole session.
 */
const nest = (depth: number, leaf: unknown): unknown => {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
};

let redis: Standalone;
before(async () => {
  redis = await startStandalone();
});
after(async () => {
  await redis?.cleanup();
});

describe('symmetric limits: nothing accepted at write is refused at read', () => {
  it('tagged JSON: every value the encoder accepts, the decoder reads back (depths around the limit, with and without a float)', () => {
    for (const leaf of [1, 1.5]) {
      for (const depth of [998, 999, 1000, 1001, 3000, 5000]) {
        const data = { deep: nest(depth, leaf) };
        let text: string;
        try {
          text = taggedJsonSerializer.dumps(data);
        } catch (error) {
          assert.ok(error instanceof SessionSerializationError, `depth ${depth}: ${String(error)}`);
          assert.equal(error.path, 'deep');
          continue;
        }
        assert.doesNotThrow(() => taggedJsonSerializer.loads(text), `depth ${depth} leaf ${leaf}: written, so it must read`);
      }
    }
    // The session dict is level 1: 999 levels of value fit, 1000 do not.
    assert.doesNotThrow(() => taggedJsonSerializer.dumps({ deep: nest(999, 1.5) }));
    assert.throws(() => taggedJsonSerializer.dumps({ deep: nest(1000, 1.5) }), SessionSerializationError);
    assert.throws(() => taggedJsonSerializer.dumps({ deep: nest(1000, 1) }), SessionSerializationError);
  });

  it('values too deep for the encoder\'s own stack are a SessionSerializationError too (tagged JSON and JSON)', () => {
    for (const serializer of [taggedJsonSerializer, jsonSerializer]) {
      assert.throws(() => serializer.dumps({ deep: nest(200_000, 1) }), SessionSerializationError, serializer.name);
    }
  });

  it('over HTTP on real Redis: a value nested > 1000 levels (with a float) is refused at write, and the session survives', async () => {
    const app = new Koa();
    app.silent = true;
    const store = new RedisStore(redis.server.url);
    app.use(qsession({ store }));
    app.use((ctx) => {
      if (ctx.path === '/deep') session.deep = nest(Number(ctx.query.depth), 1.5);
      if (ctx.path === '/set') session.user = 'ann';
      ctx.body = JSON.stringify({ user: session.user ?? null });
    });
    const served = await serve(app);
    try {
      const browser = new Client(served.url);
      await browser.get('/set');
      let refused = 0;
      let lostSessions = 0;
      for (let i = 0; i < 10; i++) {
        const reply = await browser.get(`/deep?depth=${1001 + i * 300}`);
        if (reply.status === 500) refused++;
        const next = await browser.get('/');
        if (JSON.parse(next.text).user !== 'ann') lostSessions++;
      }
      assert.equal(refused, 10, 'every too-deep write is refused when it is made');
      assert.equal(lostSessions, 0, 'and the session is never deleted by a later read');
    } finally {
      await served.close();
      await store.close();
    }
  });
});
