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
