import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore } from 'koa-qsession';
import { storeContract } from '../support/store-contract.js';

storeContract('memory', async () => ({ store: new MemoryStore(), cleanup: async () => undefined }));

describe('MemoryStore', () => {
  it('is bounded: past maxEntries the least recently used session goes first', async () => {
    const store = new MemoryStore({ maxEntries: 3 });
    for (const key of ['a', 'b', 'c']) await store.create(key, key, 60_000);
    await store.get('a'); // a is now the most recently used; b is the oldest
    await store.create('d', 'd', 60_000);
    assert.equal(store.size, 3);
    assert.equal(await store.get('b'), null);
    for (const key of ['a', 'c', 'd']) assert.equal(await store.get(key), key);
  });

  it('honours TTL on its own clock', async () => {
    let now = 1_000;
    const store = new MemoryStore({ now: () => now });
    await store.create('k', 'v', 500);
    now += 499;
    assert.equal(await store.get('k'), 'v');
    now += 1;
    assert.equal(await store.get('k'), null);
  });

  it('keeps a copy of bytes, so the caller reusing its buffer changes nothing', async () => {
    const store = new MemoryStore();
    const buffer = Buffer.from('abc');
    await store.create('k', buffer, 60_000);
    buffer.fill(0);
    assert.deepEqual(Buffer.from((await store.get('k')) as Uint8Array), Buffer.from('abc'));
  });

  it('bounds the user index with the store: maxEntries 10 keeps at most 10 index entries', async () => {
    let now = 1_000;
    const store = new MemoryStore({ maxEntries: 10, now: () => now });
    // Index internals, counted directly: list() prunes as it reads, so it could hide a leak.
    const { users, usersOf } = store as unknown as { users: Map<string, Set<string>>; usersOf: Map<string, Set<string>> };
    const entries = () => [...users.values()].reduce((sum, sessions) => sum + sessions.size, 0);
    for (let i = 0; i < 1000; i++) {
      await store.create(`s${i}`, 'v', 60_000);
      await store.userIndex.add(`user:${i % 7}`, `s${i}`, 60_000);
      await store.userIndex.add('user:all', `s${i}`, 60_000);
    }
    assert.equal(store.size, 10);
    assert.equal(entries(), 20, 'two index entries for each of the 10 sessions kept, none for the 990 evicted');
    assert.ok(usersOf.size <= 10);
    assert.deepEqual((await store.userIndex.list('user:all')).length, 10);
    // Deleted, expired: out of the index as well.
    await store.delete('s999');
    now += 60_001;
    assert.equal(await store.get('s998'), null);
    assert.equal(entries(), 16);
    assert.deepEqual(await store.userIndex.list('user:all'), []);
    assert.equal(entries(), 0);
    assert.equal(users.size, 0);
    assert.equal(usersOf.size, 0);
  });

  it('keeps a user index entry as long as its session, whatever TTL the entry was given', async () => {
    let now = 1_000;
    const store = new MemoryStore({ now: () => now });
    await store.create('laptop', 'v', 30_000);
    await store.userIndex.add('user:ann', 'laptop', 1_000);
    await store.touch('laptop', 30_000);
    now += 10_000;
    assert.deepEqual(await store.userIndex.list('user:ann'), ['laptop']);
    await store.userIndex.add('user:ann', 'gone', 1_000);
    assert.deepEqual(await store.userIndex.list('user:ann'), ['laptop'], 'a session not in the store is not indexed');
  });

  it('rejects a bad maxEntries with an error that names the option', () => {
    assert.throws(() => new MemoryStore({ maxEntries: 0 }), /memory\.maxEntries/);
  });
});

describe('MemoryStore in production', () => {
  it('warns once that it is for one process only', async () => {
    const { spawnSync } = await import('node:child_process');
    const script = "import { MemoryStore } from 'koa-qsession'; new MemoryStore(); new MemoryStore();";
    const run = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, NODE_ENV: 'production' },
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stderr.match(/QSESSION_MEMORY_STORE/g)?.length, 1, run.stderr);
    assert.match(run.stderr, /one process only|this process only/);
  });
});
