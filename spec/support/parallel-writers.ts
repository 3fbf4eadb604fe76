import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import type { AddressInfo } from 'node:net';
import { qsession, session, type QSessionOptions, type ReplaceResult, type SessionStore, type StoredValue } from 'koa-qsession';

/** A Koa app in a child process (spec/support/app-worker.ts) on the given options. */
async function startWorker(options: QSessionOptions): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'spec/support/app-worker.ts', JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  const port = Number(first.value);
  assert.ok(port > 0, `the worker did not start: ${String(first.value)}`);
  return { port, child };
}

async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

async function get(port: number, path: string, id?: string, method = 'GET'): Promise<{ status: number; body: string; id: string | undefined }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers: id ? { cookie: `session=${id}` } : {} });
  const cookie = /^session=([^;]*)/.exec(response.headers.get('set-cookie') ?? '');
  return { status: response.status, body: await response.text(), id: cookie?.[1] };
}

/** Counts the writes that reach a store (replace and create), passing everything through. */
export class CountingStore implements SessionStore {
  readonly name: string;
  writes = 0;
  constructor(
    readonly inner: SessionStore,
    /** Added to every replace before it reaches the store. */
    readonly writeDelayMs = 0,
  ) {
    this.name = inner.name;
  }
  get(key: string, refreshTtlMs?: number): Promise<StoredValue | null> {
    return this.inner.get(key, refreshTtlMs);
  }
  create(key: string, value: StoredValue, ttlMs: number): Promise<boolean> {
    this.writes++;
    return this.inner.create(key, value, ttlMs);
  }
  async replace(key: string, expected: StoredValue, value: StoredValue, ttlMs: number): Promise<ReplaceResult> {
    this.writes++;
    // A slower store makes the requests' saves overlap whatever the machine's speed (on a fast
    // store and an idle machine each save can finish before the next request arrives).
    if (this.writeDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.writeDelayMs));
    return this.inner.replace(key, expected, value, ttlMs);
  }
  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
  deleteIf(key: string, expected: StoredValue): Promise<ReplaceResult> {
    return this.inner.deleteIf(key, expected);
  }
  touch(key: string, ttlMs: number): Promise<void> {
    return this.inner.touch(key, ttlMs);
  }
  close(): Promise<void> {
    return this.inner.close?.() ?? Promise.resolve();
  }
}

/**
 * The save path under load, against a real store: many requests writing one session at once, from
 * one process (they coalesce, none fails) and from two processes (compare-and-set, retried until
 * storeTimeout, none fails), every key kept.
 */
export function parallelWriterCases(name: string, setup: () => Promise<{ options: QSessionOptions; store: () => SessionStore; cleanup(): Promise<void> }>): void {
  describe(`parallel writers of one session: ${name}`, () => {
    let subject: Awaited<ReturnType<typeof setup>>;
    before(async () => {
      subject = await setup();
    });
    after(async () => {
      await subject?.cleanup();
    });

    it('50 requests setting distinct keys through 2 processes: 0 non-2xx, every key kept', async () => {
      const workers = await Promise.all([startWorker(subject.options), startWorker(subject.options)]);
      try {
        const { id } = await get(workers[0]!.port, '/set?k=base&v=0');
        assert.ok(id);
        const replies = await Promise.all(
          Array.from({ length: 50 }, (_, i) => get(workers[i % 2]!.port, `/set?k=k${i}&v=${i}`, id)),
        );
        assert.deepEqual(replies.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.body}`), []);
        const data = JSON.parse((await get(workers[1]!.port, '/dump', id)).body) as Record<string, string>;
        const expected: Record<string, string> = { base: '0' };
        for (let i = 0; i < 50; i++) expected[`k${i}`] = String(i);
        assert.deepEqual(Object.keys(data).sort(), Object.keys(expected).sort());
        assert.deepEqual(data, { ...data, ...expected });
      } finally {
        await Promise.all(workers.map((worker) => stopWorker(worker.child)));
      }
    });

    /** Runs `body` against an app whose every request increments `count` (read, await, write). */
    async function withIncrementApp(body: (port: number, store: CountingStore) => Promise<void>): Promise<void> {
      const store = new CountingStore(subject.store(), 20);
      const app = new Koa();
      app.silent = true;
      const sessions = qsession({ store });
      app.use(sessions);
      app.use(async (ctx) => {
        const count = Number(session.count ?? 0);
        await new Promise((resolve) => setTimeout(resolve, 2));
        session.count = count + 1;
        ctx.body = String(count + 1);
      });
      const server = app.listen(0, '127.0.0.1');
      await once(server, 'listening');
      try {
        await body((server.address() as AddressInfo).port, store);
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        await sessions.close();
      }
    }

    it('16 concurrent POST increments of one counter in one process (read, await, write): every one counted, none refused', async () => {
      await withIncrementApp(async (port, store) => {
        const { id } = await get(port, '/');
        const replies = await Promise.all(Array.from({ length: 16 }, () => get(port, '/', id, 'POST')));
        assert.deepEqual(replies.map((r) => r.status), replies.map(() => 200));
        assert.deepEqual(replies.map((r) => Number(r.body)).sort((a, b) => a - b), Array.from({ length: 16 }, (_, i) => i + 2));
        const stored = await store.get(`session:${id}`);
        assert.match(Buffer.from(stored as string | Uint8Array).toString(), /"count":17[,}]/);
      });
    });

    it('16 concurrent GET increments (readers: nobody waits): every increment answered 200 is kept, the others are 409', async () => {
      await withIncrementApp(async (port, store) => {
        const { id } = await get(port, '/');
        const replies = await Promise.all(Array.from({ length: 16 }, () => get(port, '/', id)));
        assert.deepEqual(replies.filter((r) => r.status !== 200 && r.status !== 409), []);
        const acknowledged = replies.filter((r) => r.status === 200).length;
        assert.ok(acknowledged >= 1, 'the first save always lands');
        const stored = await store.get(`session:${id}`);
        assert.match(Buffer.from(stored as string | Uint8Array).toString(), new RegExp(`"count":${acknowledged + 1}[,}]`));
      });
    });

    it('16 concurrent GETs of one session each setting its own key (readers that write): 0 failures, every key kept', async () => {
      const store = new CountingStore(subject.store(), 20);
      const app = new Koa();
      app.silent = true;
      const sessions = qsession({ store });
      app.use(sessions);
      app.use((ctx) => {
        session.set(String(ctx.query.k), String(ctx.query.v));
        ctx.body = 'ok';
      });
      const server = app.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const { port } = server.address() as AddressInfo;
      try {
        const { id } = await get(port, '/?k=base&v=0');
        store.writes = 0;
        const replies = await Promise.all(Array.from({ length: 16 }, (_, i) => get(port, `/?k=k${i}&v=${i}`, id)));
        assert.deepEqual(replies.map((r) => r.status), replies.map(() => 200));
        const stored = await store.get(`session:${id}`);
        const text = Buffer.from(stored as string | Uint8Array).toString();
        for (let i = 0; i < 16; i++) assert.ok(text.includes(`"k${i}":"${i}"`), `k${i} is kept`);
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        await sessions.close();
      }
    });
  });
}
