/**
 * Which stored `_addr` pinning compares (issue 14, point 3): one IP address, by koa-qsession's rule;
 * a pin written by another rule (Quart's raw X-Forwarded-For chain) is neither compared nor replaced.
 * The same rule against the real Python app: spec/interop/pinning.spec.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore, taggedJsonSerializer } from 'koa-qsession';
import { createEvents, Lifecycle, resolveOptions } from '../../src/internal.js';
import { comparablePin } from '../../src/core/pin-rule.js';

const ok = { isStatic: false, failed: false };
const ID = 'b8ebbf02-cc7a-4b0b-824f-22a984c8c0b8';

async function setup(stored: string) {
  const store = new MemoryStore();
  const events = createEvents();
  const mismatches: unknown[] = [];
  events.on('pin-mismatch', (event) => mismatches.push(event));
  const options = resolveOptions({ hijackProtection: true, reverseProxy: true, quartPinning: 'forwarded-for' });
  const lifecycle = new Lifecycle({ options, store, serializer: taggedJsonSerializer, events });
  await store.create(`session:${ID}`, stored, 60_000);
  return { store, lifecycle, mismatches };
}

describe('pin rule', () => {
  it('compares one IP address (normalised), and nothing else', () => {
    assert.equal(comparablePin('127.0.0.1'), '127.0.0.1');
    assert.equal(comparablePin('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(comparablePin('2001:DB8:0:0::1'), '2001:db8::1');
    assert.equal(comparablePin('unknown'), 'unknown');
    assert.equal(comparablePin('1.2.3.4, 10.0.0.1'), undefined);
    assert.equal(comparablePin('evil, 1.2.3.4'), undefined);
    assert.equal(comparablePin(''), undefined);
    assert.equal(comparablePin(false), undefined);
    assert.equal(comparablePin(42), undefined);
  });

  it("a Quart proxy-mode chain admits only its own header text, byte for byte; without a header it fails closed; a single address is checked", async () => {
    const chain = `{"_permanent":true,"_addr":"9.9.9.9, 1.2.3.4","user_id":7}`;
    const kept = await setup(chain);
    const record = await kept.lifecycle.open(ID, { address: '1.2.3.4', forwardedFor: '9.9.9.9, 1.2.3.4' });
    assert.equal(record.isNew, false, 'the session is kept');
    assert.equal(record.session.user_id, 7);
    record.session.seen = 1;
    await kept.lifecycle.commit(record, ok);
    assert.equal(await kept.store.get(`session:${ID}`), `{"_permanent":true,"_addr":"9.9.9.9, 1.2.3.4","user_id":7,"seen":1}`);
    assert.deepEqual(kept.mismatches, []);

    const unchecked = await setup(chain);
    assert.equal((await unchecked.lifecycle.open(ID, { address: '5.6.7.8' })).isNew, true, 'a pin that cannot be compared fails closed');
    assert.equal(unchecked.mismatches.length, 1);

    const single = await setup(`{"_permanent":true,"_addr":"1.2.3.4","user_id":7}`);
    assert.equal((await single.lifecycle.open(ID, { address: '1.2.3.4' })).isNew, false);
    assert.equal((await single.lifecycle.open(ID, { address: '5.6.7.8' })).isNew, true);
    assert.equal(single.mismatches.length, 1);
    assert.equal(await single.store.get(`session:${ID}`), null, 'a mismatch deletes the session, as Quart does');
  });
});
