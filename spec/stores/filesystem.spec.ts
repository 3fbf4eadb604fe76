import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FilesystemStore, SessionOptionsError, qsession } from 'koa-qsession';
import { casIncrement, raceCreates } from '../support/fs-races.js';
import { tempDir } from '../support/process.js';
import { startSessionApp } from '../support/session-app.js';
import { storeContract } from '../support/store-contract.js';

storeContract('filesystem', async () => {
  const dir = tempDir('fs-contract');
  const store = new FilesystemStore({ directory: dir.path });
  return { store, cleanup: async () => (await store.close(), dir.remove()) };
});

describe('FilesystemStore', () => {
  let dir: { path: string; remove: () => void };
  let store: FilesystemStore;
  before(() => {
    dir = tempDir('fs');
    store = new FilesystemStore({ directory: dir.path });
  });
  after(async () => {
    await store.close();
    dir.remove();
  });

  it('names files by a hash of the key: no key ever becomes a path', async () => {
    const key = '../../etc/passwd';
    await store.create(key, 'v', 60_000);
    const file = store.pathOf(key);
    assert.match(file, /^.*\/[0-9a-f]{64}\.s$/);
    assert.ok(readdirSync(dir.path).includes(file.slice(dir.path.length + 1)));
    assert.equal(String(await store.get(key)), 'v');
  });

  it('honours expiry on read, and the sweep removes expired files and evicts down to maxEntries', async () => {
    const sub = tempDir('fs-sweep');
    const small = new FilesystemStore({ directory: sub.path, maxEntries: 5 });
    try {
      await small.create('short', 'v', 200);
      for (let i = 0; i < 8; i++) await small.create(`k${i}`, 'v', 60_000 + i * 1000);
      await sleep(300);
      assert.equal(await small.get('short'), null, 'expired on read');
      await small.touch('short', 60_000);
      assert.equal(await small.get('short'), null, 'touch does not revive an expired session');
      assert.equal(await small.create('short', 'again', 60_000), true, 'an expired key counts as absent for create');
      await small.delete('short');
      await small.create('expired', 'v', 100);
      await sleep(150);
      const { removed, evicted } = await small.sweep();
      assert.equal(removed, 1);
      assert.equal(evicted, 3);
      const files = readdirSync(sub.path).filter((name) => name.endsWith('.s'));
      assert.equal(files.length, 5);
      for (let i = 0; i < 3; i++) assert.equal(await small.get(`k${i}`), null, 'the sessions closest to expiry went first');
      for (let i = 3; i < 8; i++) assert.notEqual(await small.get(`k${i}`), null);
    } finally {
      await small.close();
      sub.remove();
    }
  });

  it('writes atomically: concurrent readers only ever see a whole value', async () => {
    const key = 'atomic';
    const [a, b] = [Buffer.alloc(256 * 1024, 'a'), Buffer.alloc(256 * 1024, 'b')];
    await store.create(key, a, 60_000);
    let stop = false;
    const writer = (async () => {
      let current: Uint8Array = a;
      for (let i = 0; !stop; i++) {
        const next = i % 2 ? a : b;
        const result = await store.replace(key, current, next, 60_000);
        assert.equal(result.status, 'ok');
        current = next;
      }
    })();
    const reads = await Promise.all(Array.from({ length: 200 }, () => store.get(key)));
    stop = true;
    await writer;
    for (const value of reads) {
      const bytes = Buffer.from(value as Uint8Array);
      assert.equal(bytes.length, a.length);
      assert.ok(bytes.equals(a) || bytes.equals(b), 'a torn or partial value was read');
    }
    assert.deepEqual(readdirSync(dir.path).filter((name) => name.startsWith('.tmp-') || name.endsWith('.lock')), [], 'no temp or lock files left');
  });

  it('parallel requests on one session setting one key through the app: one lands, the others are refused (409), none half-written', async () => {
    const app = await startSessionApp({ type: 'filesystem', directory: dir.path });
    try {
      const { id } = await app.request('/set?v=start');
      // GETs never wait for each other: the compare-and-set decides, and a key another request changed
      // meanwhile is a conflict (SessionConflictError), never a silent overwrite.
      const responses = await Promise.all(Array.from({ length: 6 }, (_, i) => app.request(`/set?v=${i}`, id)));
      assert.deepEqual(responses.filter((r) => r.status !== 200 && r.status !== 409), []);
      assert.ok(responses.some((r) => r.status === 200));
      assert.match((await app.request('/get', id)).body, /^\d+$/);
    } finally {
      await app.close();
    }
  });

  it('a replace racing a delete never brings the session back', async () => {
    for (let i = 0; i < 30; i++) {
      const key = `race-delete:${i}`;
      await store.create(key, 'v1', 60_000);
      const results = await Promise.all([store.replace(key, 'v1', 'v2', 60_000), store.delete(key)]);
      assert.ok(results[0].status === 'ok' || results[0].status === 'missing');
      assert.equal(await store.get(key), null);
    }
  });

  it('breaks a lock left behind by a dead process', async () => {
    const sub = tempDir('fs-stale');
    const quick = new FilesystemStore({ directory: sub.path, lockStaleMs: 300 });
    try {
      await quick.create('locked', 'v1', 60_000);
      const lock = `${quick.pathOf('locked')}.lock`;
      writeFileSync(lock, '999999 dead');
      utimesSync(lock, new Date(Date.now() - 1000), new Date(Date.now() - 1000));
      assert.deepEqual(await quick.replace('locked', 'v1', 'v2', 60_000), { status: 'ok' });
      assert.equal(String(await quick.get('locked')), 'v2');
    } finally {
      await quick.close();
      sub.remove();
    }
  });

  it('the user index leaves out destroyed and expired sessions', async () => {
    const index = store.userIndex;
    await store.create('u1', 'a', 60_000);
    await store.create('u2', 'b', 150);
    await index.add('user:1', 'u1', 60_000);
    await index.add('user:1', 'u2', 60_000);
    await sleep(200);
    assert.deepEqual(await index.list('user:1'), ['u1']);
    await store.delete('u1');
    assert.deepEqual(await index.list('user:1'), []);
  });

  it('the user index file lives as long as its longest-lived session, whatever TTL its entries were given', async () => {
    const index = store.userIndex;
    await store.create('remembered', 'a', 60_000);
    // An expiry with a fraction of a millisecond (a file system keeps nanoseconds; a Date keeps none).
    utimesSync(store.pathOf('remembered'), new Date(), (Date.now() + 60_000) / 1000 + 0.0009);
    // An entry with a TTL shorter than its session (a TTL restarted without a re-add), then a short session.
    await index.add('user:2', 'remembered', 100);
    await store.create('brief', 'b', 100);
    await index.add('user:2', 'brief', 100);
    const indexFile = store.pathOf('user:2', 'u');
    assert.ok(statSync(indexFile).mtimeMs >= statSync(store.pathOf('remembered')).mtimeMs, 'the index expires no sooner than the long session');
    await sleep(200);
    await store.sweep();
    assert.deepEqual(await index.list('user:2'), ['remembered'], 'the sweep kept the index; the short session is gone from it');
  });
});

describe('FilesystemStore shared by two processes', () => {
  let dir: { path: string; remove: () => void };
  let store: FilesystemStore;
  before(() => {
    dir = tempDir('fs-shared');
    store = new FilesystemStore({ directory: dir.path });
  });
  after(async () => {
    await store.close();
    dir.remove();
  });

  /** Starts the worker, waits for "ready", then starts it and `mine` at the same moment. */
  async function race<T, U>(args: string[], mine: () => Promise<U>): Promise<[T, U]> {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'spec/support/fs-worker.ts', dir.path, ...args], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    try {
      const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
      assert.equal((await lines.next()).value, 'ready');
      child.stdin!.write('go\n');
      const [theirs, ours] = await Promise.all([lines.next(), mine()]);
      return [JSON.parse(String(theirs.value)) as T, ours];
    } finally {
      if (child.exitCode === null) {
        const exited = once(child, 'exit');
        child.kill();
        await exited;
      }
    }
  }

  it('compare-and-set across processes: every increment lands exactly once', async () => {
    await store.create('counter', '0', 60_000);
    const [theirs, ours] = await race<{ done: number; conflicts: number }, { done: number; conflicts: number }>(
      ['increment', 'counter', '150'],
      () => casIncrement(store, 'counter', 150),
    );
    assert.equal(theirs.done + ours.done, 300);
    assert.equal(String(await store.get('counter')), '300', 'no update was lost');
    assert.ok(theirs.conflicts + ours.conflicts > 0, 'the processes really raced');
  });

  it('create across processes: each key is won by exactly one', async () => {
    const [theirs, ours] = await race<number[], number[]>(['create', 'race', '150'], () => raceCreates(store, 'race', 150, 'parent'));
    assert.equal(theirs.length + ours.length, 150);
    assert.deepEqual([...theirs, ...ours].sort((x, y) => x - y), Array.from({ length: 150 }, (_, i) => i));
    for (const i of ours) assert.equal(String(await store.get(`race:${i}`)), 'parent');
    for (const i of theirs) assert.equal(String(await store.get(`race:${i}`)), 'worker');
  });
});

describe('FilesystemStore start-up checks', () => {
  it('a directory that cannot be written gives a clear error at start-up (even as root)', () => {
    const dir = tempDir('fs-bad');
    try {
      const file = join(dir.path, 'a-file');
      writeFileSync(file, '');
      for (const directory of [join(file, 'sessions'), file, '/proc/qsession-sessions']) {
        assert.throws(
          () => qsession({ type: 'filesystem', directory }),
          (error: unknown) =>
            error instanceof SessionOptionsError && error.option === 'directory' && error.message.includes('must be a writable directory') && error.message.includes(directory),
        );
      }
    } finally {
      dir.remove();
    }
  });

  it('creates a missing directory, and requires one', () => {
    const dir = tempDir('fs-new');
    try {
      const nested = join(dir.path, 'a', 'b');
      const store = new FilesystemStore({ directory: nested });
      assert.ok(statSync(nested).isDirectory());
      void store.close();
      assert.throws(() => qsession({ type: 'filesystem' }), /option "directory" is required/);
      assert.throws(() => qsession({ type: 'filesystem', directory: dir.path, filesystem: { maxEntries: -1 } }), /filesystem\.maxEntries/);
    } finally {
      dir.remove();
    }
  });
});
