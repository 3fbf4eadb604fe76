import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeAddress, sameClient } from '../../src/core/address.js';
import { forwardedFor } from '../../src/koa/client-address.js';

describe('client addresses', () => {
  it('normalises IPv4, IPv4-mapped IPv6 and IPv6 spellings to one text', () => {
    assert.equal(normalizeAddress('1.2.3.4'), '1.2.3.4');
    assert.equal(normalizeAddress('::ffff:1.2.3.4'), '1.2.3.4');
    assert.equal(normalizeAddress('::FFFF:102:304'), '1.2.3.4');
    assert.equal(normalizeAddress(' 10.0.0.1 '), '10.0.0.1');
    assert.equal(normalizeAddress('0:0:0:0:0:0:0:1'), '::1');
    assert.equal(normalizeAddress('2001:DB8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
    assert.equal(normalizeAddress('2001:db8:0000:0000:0000:0000:0000:0001'), '2001:db8::1');
    assert.equal(normalizeAddress('fe80::1%eth0'), 'fe80::1');
    assert.equal(normalizeAddress('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2:3:4:5:6');
    assert.equal(normalizeAddress('64:ff9b::1.2.3.4'), '64:ff9b::102:304');
  });

  it('refuses anything that is not an IP address', () => {
    for (const bad of ['', 'unknown', '1.2.3', '01.2.3.4', '1.2.3.4:80', '[::1]', 'a'.repeat(100), '::1::2', '1:2:3:4:5:6:7:8:9', undefined, null]) {
      assert.equal(normalizeAddress(bad), undefined, String(bad));
    }
  });

  it('gives every runtime the same canonical IPv6 text (RFC 5952: the first longest zero run compressed, a lone zero kept)', () => {
    assert.equal(normalizeAddress('::'), '::');
    assert.equal(normalizeAddress('1::'), '1::');
    assert.equal(normalizeAddress('1:0:0:2:0:0:0:3'), '1:0:0:2::3');
    assert.equal(normalizeAddress('1:0:0:2:0:0:3:4'), '1::2:0:0:3:4');
    assert.equal(normalizeAddress('0:1:2:3:4:5:6:7'), '0:1:2:3:4:5:6:7');
    assert.equal(normalizeAddress('::ffff:0:0'), '0.0.0.0');
    assert.equal(normalizeAddress('::ffff:255.255.255.255'), '255.255.255.255');
    assert.equal(normalizeAddress('2001:db8::8:800:200C:417A'), '2001:db8::8:800:200c:417a');
  });

  it('X-Forwarded-For: counts trusted hops from the right, never trusts the client-written left', () => {
    assert.equal(forwardedFor('6.6.6.6, 1.1.1.1', 1), '1.1.1.1');
    assert.equal(forwardedFor('6.6.6.6, 1.1.1.1, 10.0.0.2', 2), '1.1.1.1');
    assert.equal(forwardedFor('1.1.1.1', 2), undefined, 'fewer entries than hops');
    assert.equal(forwardedFor('', 1), undefined);
    assert.equal(forwardedFor(',', 2), '');
    assert.equal(forwardedFor(',,,', 9), undefined);
    assert.equal(forwardedFor('x'.repeat(100_000), 1), undefined, 'an oversized entry is not even sliced');
    assert.equal(forwardedFor(`${'9.9.9.9,'.repeat(10_000)}1.1.1.1`, 1), '1.1.1.1');
  });

  it('subnet pinning: IPv4 /24 and IPv6 /64', () => {
    assert.ok(sameClient('1.2.3.4', '1.2.3.200', 'subnet'));
    assert.ok(!sameClient('1.2.3.4', '1.2.4.4', 'subnet'));
    assert.ok(!sameClient('1.2.3.4', '1.2.3.200', 'exact'));
    assert.ok(sameClient('2001:db8:1:2::1', '2001:db8:1:2:ffff::9', 'subnet'));
    assert.ok(!sameClient('2001:db8:1:2::1', '2001:db8:1:3::1', 'subnet'));
    assert.ok(!sameClient('1.2.3.4', '::1', 'subnet'));
    assert.ok(!sameClient('unknown', 'unknown2', 'subnet'));
    assert.ok(!sameClient('unverified', 'unverified', 'subnet'));
    assert.ok(sameClient('fe80::1%eth0', 'fe80::2', 'subnet'), 'a zone id is not part of the address');
    assert.ok(sameClient('1.2.3.0', '1.2.3.255', 'subnet'));
    assert.ok(!sameClient('1.2.2.255', '1.2.3.0', 'subnet'));
  });
});
