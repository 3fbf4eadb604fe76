/**
 * Group commit on a hot session (core/save-group.ts), on a real Redis: the writers of one session
 * that finish in the same turn of the event loop, while a save of it is in flight, store their
 * changes in one compare-and-set; each is answered only once that landed, each with its own answer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisStore, SessionConflictError, TaggedJsonSerializer, taggedJsonSerializer, type Serializer } from 'koa-qsession';
import { createEvents } from '../../src/core/events.js';
import { Lifecycle, resolveOptions } from '../../src/internal.js';
import type { SessionRecord } from '../../src/core/record.js';
import { withoutExpiry } from '../support/decision.js';
import { commandsDuring, startStandalone, type Standalone } from '../support/redis.js';

const ok = { isStatic: false, failed: false };
const writer = { writer: true };

describe('group commit of a hot session (Redis)', () => {
  let redis: Standalone;
  const stores: RedisStore[] = [];
  before(async () => {
    redis = await startStandalone();
  });
  after(async () => {
    for (const store of stores) await store.close?.();
    await redis.cleanup();
  });

  /** One process's lifecycle on its own connection. */
  function app(serializer: Serializer = taggedJsonSerializer): Lifecycle {
    const store = new RedisStore(redis.server.url);
    stores.push(store);
    return new Lifecycle({ options: resolveOptions({}), store, serializer, events: createEvents() });
  }

  async function seeded(lc: Lifecycle, data: Record<string, unknown>): Promise<string> {
    const seed = await lc.open(undefined);
    Object.assign(seed.session, data);
    await lc.commit(seed, ok);
    return seed.id;
  }

  /** A writer of `id` that applies `change` and commits (its answer, or the error it fails with). */
  async function write(lc: Lifecycle, id: string, change: (record: SessionRecord) => void): Promise<unknown> {
    const record = await lc.open(id, writer);
    change(record);
    try {
      return withoutExpiry(await lc.commit(record, ok));
    } catch (error) {
      return error;
    }
  }

  it('writers that finish while a save is in flight: one compare-and-set for all of them, none lost', async () => {
    const lc = app();
    const id = await seeded(lc, { counter: 0 });
    const increment = (record: SessionRecord) => {
      record.session.counter = (record.session.counter as number) + 1;
    };
    await write(lc, id, increment); // the script is in Redis's cache from here on
    let answers: unknown[] = [];
    const commands = await commandsDuring(redis.server, async () => {
      // The first save goes at once; the five that start from it (no store read) go as one.
      answers = await Promise.all([1, 2, 3, 4, 5, 6].map(() => write(lc, id, increment)));
    });
    assert.deepEqual(answers, Array(6).fill({ kind: 'set', id }));
    // Round trips: one GET (the first writer's load), two EVALSHA (each runs a GET and a SET inside).
    assert.deepEqual(commands, { get: 1 + 2, evalsha: 2, set: 2 });
    assert.equal((await lc.open(id)).session.counter, 7);
  });

  it('no member is answered before the group is stored', async () => {
    const lc = app();
    const id = await seeded(lc, { counter: 0 });
    const seen: unknown[] = [];
    await Promise.all(
      [1, 2, 3].map(async (n) => {
        await write(lc, id, (record) => {
          record.session[`k${n}`] = n;
        });
        // Read on another connection the moment this request is answered.
        seen.push(JSON.parse(await redis.server.cli('GET', `session:${id}`))[`k${n}`]);
      }),
    );
    assert.deepEqual(seen.sort(), [1, 2, 3]);
  });

  it('a member that changed a key another process changed meanwhile is refused alone; the others are stored', async () => {
    const here = app();
    const elsewhere = app();
    const id = await seeded(here, { counter: 0, x: 0, y: 0 });
    const first = await here.open(id, writer);
    // Another process changes `y` after `first` read it, before any of this process's saves land.
    const other = await elsewhere.open(id, writer);
    other.session.y = 'elsewhere';
    await elsewhere.commit(other, ok);
    first.session.counter = 1;
    const answers = await Promise.all([
      Promise.resolve(here.commit(first, ok)).then(withoutExpiry),
      write(here, id, (record) => void (record.session.x = 'group')),
      write(here, id, (record) => void (record.session.y = 'group')),
    ]);
    assert.deepEqual(answers[0], { kind: 'set', id }, 'the first save merges: it did not change y');
    assert.deepEqual(answers[1], { kind: 'set', id });
    assert.ok(answers[2] instanceof SessionConflictError && answers[2].keys.join() === 'y', String(answers[2]));
    assert.deepEqual((await here.open(id)).session.toJSON(), { counter: 1, x: 'group', y: 'elsewhere' });
  });

  it('a reader that writes, loaded from the store before the group began, does not join it: every key is kept', async () => {
    const lc = app();
    const id = await seeded(lc, { counter: 0 });
    const reader = await lc.open(id); // a GET: no turn, it read the store
    reader.session.r = 'reader';
    const answers = await Promise.all([
      write(lc, id, (record) => void (record.session.x = 'first')),
      write(lc, id, (record) => void (record.session.y = 'group')),
      Promise.resolve(lc.commit(reader, ok)).then(withoutExpiry),
    ]);
    assert.deepEqual(answers, Array(3).fill({ kind: 'set', id }));
    assert.deepEqual((await lc.open(id)).session.toJSON(), { counter: 0, x: 'first', y: 'group', r: 'reader' });
  });

  it('a logout right behind a group: the group is stored first (its writers answered 2xx), then the session is gone', async () => {
    const lc = app();
    const id = await seeded(lc, { counter: 0 });
    const answers = await Promise.all([
      write(lc, id, (record) => void (record.session.counter = 1)),
      write(lc, id, (record) => void (record.session.cart = ['book'])),
      write(lc, id, (record) => record.session.destroy()),
    ]);
    assert.deepEqual(answers, [{ kind: 'set', id }, { kind: 'set', id }, { kind: 'clear' }]);
    assert.equal((await redis.server.cli('EXISTS', `session:${id}`)).trimEnd(), '0');
  });

  it('a request that empties the session right behind a group: the group is stored first, then the session is deleted, no retry', async () => {
    const lc = app();
    const id = await seeded(lc, { counter: 0 });
    // Both scripts are in Redis's cache from here on.
    await write(lc, id, (record) => void (record.session.counter = 1));
    await write(lc, await seeded(lc, { other: 1 }), (record) => record.session.clear());
    let answers: unknown[] = [];
    const commands = await commandsDuring(redis.server, async () => {
      answers = await Promise.all([
        write(lc, id, (record) => void (record.session.counter = 2)),
        write(lc, id, (record) => void (record.session.cart = ['book'])),
        write(lc, id, (record) => record.session.clear()),
      ]);
    });
    assert.deepEqual(answers, [{ kind: 'set', id }, { kind: 'set', id }, { kind: 'clear' }]);
    assert.equal((await redis.server.cli('EXISTS', `session:${id}`)).trimEnd(), '0');
    // The first save, the group, the compare-and-delete: had the delete gone before the group, it
    // would have been refused and tried again (more EVALSHA).
    assert.equal(commands.evalsha, 3, JSON.stringify(commands));
  });

  it('a writer handed the value the one before it is saving starts from its members: the text is split once, not once per writer', async () => {
    let splits = 0;
    const counting = new (class extends TaggedJsonSerializer {
      override entries(stored: Parameters<TaggedJsonSerializer['entries']>[0]) {
        splits++;
        return super.entries(stored);
      }
    })();
    const lc = app(counting);
    const id = await seeded(lc, { counter: 0, user: { id: 7, roles: ['a', 'b'] } });
    splits = 0;
    const answers = await Promise.all(
      [1, 2, 3, 4, 5].map(() =>
        write(lc, id, (record) => {
          record.session.counter = (record.session.counter as number) + 1;
        }),
      ),
    );
    assert.deepEqual(answers, Array(5).fill({ kind: 'set', id }));
    assert.equal(splits, 1, 'only the first writer, which read the store, splits what it read');
    const stored = await lc.open(id);
    assert.deepEqual(stored.session.toJSON(), { counter: 5, user: { id: 7, roles: ['a', 'b'] } });
  });
});
