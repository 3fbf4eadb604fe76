/**
 * The pin rule (src/core/pin-rule.ts, issue 23 point 5): a stored pin is never ignored. One this app
 * cannot interpret fails closed; with `quartPinning: 'forwarded-for'` a Quart-Session pin (the raw
 * X-Forwarded-For text) is compared the way Quart compares it, the whole text; a new session is
 * pinned with the text Quart will compare. Against the real Python app: spec/interop/pinning.spec.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MemoryStore, taggedJsonSerializer } from 'koa-qsession';
import { createEvents, Lifecycle, resolveOptions } from '../../src/internal.js';
import { normalizeAddress, UNVERIFIED_ADDRESS } from '../../src/core/address.js';
import { MAX_FORWARDED_PIN, pinMatches, pinToWrite } from '../../src/core/pin-rule.js';
import { forwardedFor as hopEntry } from '../../src/koa/client-address.js';

/** The request a Koa app behind `hops` trusted proxies sees for this header (client-address.ts's rule). */
const behind = (header: string, hops = 1) => ({ address: normalizeAddress(hopEntry(header, hops)) ?? UNVERIFIED_ADDRESS, forwardedFor: header });

describe('pinMatches: a stored pin is never ignored', () => {
  it('one IP address is compared by this app\'s rule (normalised; subnet mode too)', () => {
    assert.equal(pinMatches('127.0.0.1', { address: '127.0.0.1' }, 'exact'), true);
    assert.equal(pinMatches('::ffff:127.0.0.1', { address: '127.0.0.1' }, 'exact'), true);
    assert.equal(pinMatches('2001:DB8::1', { address: '2001:db8::1' }, 'exact'), true);
    assert.equal(pinMatches('127.0.0.1', { address: '127.0.0.2' }, 'exact'), false);
    assert.equal(pinMatches('127.0.0.1', { address: '127.0.0.2' }, 'subnet'), true);
    assert.equal(pinMatches('unknown', { address: 'unknown' }, 'exact'), true);
    assert.equal(pinMatches(UNVERIFIED_ADDRESS, { address: UNVERIFIED_ADDRESS }, 'exact'), false);
  });

  it('a pin that cannot be interpreted fails closed (it was accepted from any address before)', () => {
    for (const pinned of ['10.0.0.5, 203.0.113.7', 'evil, 1.2.3.4', '', 'not an address', 42, false, null, {}, ['1.2.3.4']]) {
      for (const mode of ['exact', 'subnet'] as const) {
        assert.equal(pinMatches(pinned, { address: '203.0.113.7' }, mode), false, `${JSON.stringify(pinned)} ${mode}`);
      }
    }
  });

  it("quartPinning 'forwarded-for': a Quart chain pin admits the same header text, as Quart does, and nothing else", () => {
    const chain = '10.0.0.5, 203.0.113.7';
    assert.equal(pinMatches(chain, behind(chain), 'exact'), true, 'the same chain');
    assert.equal(pinMatches(chain, behind(chain, 2), 'exact'), true, 'counted with two trusted proxies');
    assert.equal(pinMatches(chain, behind(chain), 'subnet'), true);
    assert.equal(pinMatches(chain, behind('10.0.0.9, 203.0.113.7'), 'exact'), false, 'another client behind the same proxy');
    assert.equal(pinMatches(chain, behind('10.0.0.9, 203.0.113.7'), 'subnet'), false, 'subnet mode does not loosen a text pin');
    assert.equal(pinMatches(chain, behind('10.0.0.5,203.0.113.7'), 'exact'), false, 'other spelling: Quart compares the text');
    assert.equal(pinMatches(chain, behind('198.51.100.1, 10.0.0.5, 203.0.113.7'), 'exact'), false, 'a longer chain');
    assert.equal(pinMatches(chain, { address: '203.0.113.7', forwardedFor: '' }, 'exact'), false, 'no header');
    assert.equal(pinMatches(chain, { address: UNVERIFIED_ADDRESS, forwardedFor: chain }, 'exact'), false, 'a chain shorter than proxyHops admits nothing');
    assert.equal(pinMatches(chain, behind(chain, 3), 'exact'), false, 'the same: three hops configured, two entries');
  });

  it("quartPinning 'forwarded-for': a one-address pin is compared with the header text and by the hop-counted address", () => {
    assert.equal(pinMatches('203.0.113.8', behind('203.0.113.8'), 'exact'), true, "Quart's pin from a one-entry header");
    assert.equal(pinMatches('203.0.113.8', behind('10.0.0.66, 203.0.113.8'), 'exact'), true, 'the client address, by this app\'s rule');
    assert.equal(pinMatches('203.0.113.8', behind('203.0.113.9'), 'exact'), false);
    assert.equal(pinMatches('203.0.113.8', behind('203.0.113.9'), 'subnet'), true);
    assert.equal(pinMatches('203.0.113.8', behind(''), 'exact'), false, 'no header: unverified');
    assert.equal(pinMatches('', behind(''), 'exact'), false, 'an empty pin never equals an empty header');
    assert.equal(pinMatches(7, behind('7'), 'exact'), false, 'a pin that is not text');
  });

  it('admits only the very header text, or one address by this app\'s rule; never throws (fuzzed, seeded)', () => {
    const ip = fc.oneof(fc.ipV4(), fc.constantFrom('10.0.0.5', '203.0.113.7', '::1', '2001:db8::1', '::ffff:10.0.0.5'));
    const chain = fc.array(ip, { minLength: 0, maxLength: 4 }).map((parts) => parts.join(', '));
    const pin = fc.oneof(chain, fc.string({ maxLength: 40 }), fc.constantFrom('unknown', UNVERIFIED_ADDRESS, ''));
    fc.assert(
      fc.property(pin, chain, fc.integer({ min: 1, max: 3 }), fc.constantFrom('exact' as const, 'subnet' as const), (pinned, header, hops, mode) => {
        const request = behind(header, hops);
        if (!pinMatches(pinned, request, mode)) return;
        assert.notEqual(request.address, UNVERIFIED_ADDRESS, 'an unverified client is never admitted');
        if (pinned === header) return; // Quart's rule: the pin was written for this very header
        const single = normalizeAddress(pinned);
        assert.ok(single !== undefined, `admitted a pin that is neither the header nor one address: ${JSON.stringify(pinned)}`);
        if (mode === 'exact') assert.equal(single, request.address);
      }),
      { seed: 2326, numRuns: 3000 },
    );
  });
});

describe('pinToWrite: what a new session is pinned with', () => {
  it('without a Quart app pinning by the header: the normalised address', () => {
    assert.equal(pinToWrite({ address: '203.0.113.7' }), '203.0.113.7');
    assert.equal(pinToWrite({ address: UNVERIFIED_ADDRESS }), UNVERIFIED_ADDRESS);
  });

  it("quartPinning 'forwarded-for': the header text, as Quart writes and compares it", () => {
    assert.equal(pinToWrite(behind('10.0.0.5, 203.0.113.7')), '10.0.0.5, 203.0.113.7');
    assert.equal(pinToWrite(behind('203.0.113.8')), '203.0.113.8');
    assert.equal(pinToWrite(behind('2001:DB8::1')), '2001:DB8::1', 'as sent, not normalised: Quart compares the text');
    const written = pinToWrite(behind('10.0.0.5, 203.0.113.7'));
    assert.equal(pinMatches(written, behind('10.0.0.5, 203.0.113.7'), 'exact'), true, 'and this app admits it back');
  });

  it('an unverified address, an empty or an oversized header: the address (admits nothing here, Quart deletes it)', () => {
    assert.equal(pinToWrite({ address: UNVERIFIED_ADDRESS, forwardedFor: '10.0.0.5' }), UNVERIFIED_ADDRESS);
    assert.equal(pinToWrite({ address: '203.0.113.7', forwardedFor: '' }), '203.0.113.7');
    const padded = `${'1.1.1.1, '.repeat(MAX_FORWARDED_PIN / 8)}203.0.113.7`;
    assert.equal(pinToWrite(behind(padded)), '203.0.113.7');
  });
});

describe('the lifecycle with the rule (MemoryStore, no Python)', () => {
  const ID = 'b8ebbf02-cc7a-4b0b-824f-22a984c8c0b8';
  const ok = { isStatic: false, failed: false };

  async function setup(stored: string, options: Record<string, unknown> = { hijackProtection: true, reverseProxy: true, quartPinning: 'forwarded-for' }) {
    const store = new MemoryStore();
    const events = createEvents();
    const mismatches: Array<{ expected: string; actual: string }> = [];
    events.on('pin-mismatch', (event) => mismatches.push(event));
    const lifecycle = new Lifecycle({ options: resolveOptions(options), store, serializer: taggedJsonSerializer, events });
    await store.create(`session:${ID}`, stored, 60_000);
    return { store, lifecycle, mismatches };
  }
  const chain = '10.0.0.5, 203.0.113.7';
  const quartSession = `{"_permanent":true,"_addr":"${chain}","user_id":7}`;

  it("a Quart chain pin: kept from the same header (and written back byte for byte), deleted from another", async () => {
    const same = await setup(quartSession);
    const record = await same.lifecycle.open(ID, behind(chain));
    assert.equal(record.isNew, false);
    record.session.seen = 1;
    await same.lifecycle.commit(record, ok);
    assert.equal(await same.store.get(`session:${ID}`), `{"_permanent":true,"_addr":"${chain}","user_id":7,"seen":1}`);
    assert.deepEqual(same.mismatches, []);

    const other = await setup(quartSession);
    assert.equal((await other.lifecycle.open(ID, behind('10.0.0.9, 203.0.113.7'))).isNew, true);
    assert.equal(other.mismatches.length, 1);
    assert.deepEqual([other.mismatches[0]!.expected, other.mismatches[0]!.actual], [chain, '203.0.113.7']);
    assert.equal(await other.store.get(`session:${ID}`), null, 'deleted, as Quart deletes it');
  });

  it('a new session, and one adopting a pin, is pinned with the header text Quart compares', async () => {
    const { lifecycle } = await setup('{"_permanent":true,"user_id":7}');
    const created = await lifecycle.open(undefined, behind(chain));
    assert.equal(created.meta('_addr'), chain, 'a new session');
    const adopting = await lifecycle.open(ID, behind(chain));
    assert.equal(adopting.isNew, false);
    assert.equal(adopting.meta('_addr'), chain, 'a stored session without _addr');
    const unverified = await lifecycle.open(undefined, behind(chain, 3));
    assert.equal(unverified.meta('_addr'), UNVERIFIED_ADDRESS, 'a chain shorter than proxyHops');
  });

  it('without quartPinning a chain pin fails closed too (a Quart app that pinned this way has left)', async () => {
    const left = await setup(quartSession, { hijackProtection: true, reverseProxy: true });
    assert.equal((await left.lifecycle.open(ID, { address: '203.0.113.7' })).isNew, true);
    assert.equal(left.mismatches.length, 1);
    assert.equal(await left.store.get(`session:${ID}`), null);
  });
});
