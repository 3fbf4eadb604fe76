import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import Koa from 'koa';
import { qsession, session, SessionUsageError } from 'koa-qsession';

// The global `session` rides on AsyncLocalStorage. This pins where it reaches on the runtime the
// suite runs on (Node 22, 24 and 26, Bun): the same places on all of them, checked here rather than assumed.
const runtime = 'Bun' in globalThis ? 'Bun' : `Node ${process.versions.node}`;

/** The session's mark, or 'outside' where the global session cannot see the request. */
function mark(): unknown {
  try {
    return session.get('mark');
  } catch (error) {
    if (error instanceof SessionUsageError) return 'outside';
    throw error;
  }
}

async function run(koaStorage: boolean) {
  const app = new Koa({ asyncLocalStorage: koaStorage });
  app.use(qsession({ type: 'memory' }));
  app.use(async (ctx) => {
    session.set('mark', ctx.query.mark);
    const seen: Record<string, unknown> = {};
    await new Promise((resolve) => setTimeout(() => resolve((seen.setTimeout = mark())), 1));
    await new Promise((resolve) => setImmediate(() => resolve((seen.setImmediate = mark()))));
    await new Promise((resolve) => process.nextTick(() => resolve((seen.nextTick = mark()))));
    const emitter = new EventEmitter();
    await new Promise<void>((resolve) => {
      emitter.once('event', () => ((seen.emitter = mark()), resolve()));
      setTimeout(() => emitter.emit('event'), 1);
    });
    // The body is read after the handler returned (the session is saved by then, still readable).
    const body = new Readable({
      read() {
        this.push(JSON.stringify({ ...seen, streamRead: mark() }));
        this.push(null);
      },
    });
    ctx.body = body;
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  try {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return await Promise.all(['a', 'b', 'c'].map((m) => fetch(`${base}/?mark=${m}`).then((r) => r.json())));
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe(`the global session across async boundaries on ${runtime}`, () => {
  it('reaches timers, ticks and event listeners, but not a body streamed after the middleware returned', async () => {
    const replies = await run(false);
    for (const [i, m] of ['a', 'b', 'c'].entries()) {
      assert.deepEqual(replies[i], { setTimeout: m, setImmediate: m, nextTick: m, emitter: m, streamRead: 'outside' });
    }
  });

  it("with Koa's asyncLocalStorage on, it reaches the streamed body too (Koa's storage spans the response)", async () => {
    const replies = await run(true);
    for (const [i, m] of ['a', 'b', 'c'].entries()) {
      assert.deepEqual(replies[i], { setTimeout: m, setImmediate: m, nextTick: m, emitter: m, streamRead: m });
    }
  });
});
