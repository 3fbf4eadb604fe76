import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isWellFormedId, makeIdGenerator, makeIdValidator } from '../../src/core/id.js';

describe('session ids', () => {
  it('base64url ids are 43 characters of 256 random bits, distinct across pool refills', () => {
    const next = makeIdGenerator('base64url');
    const valid = makeIdValidator('base64url');
    const seen = new Set<string>();
    // Several refills of the 128-id pool.
    for (let i = 0; i < 1000; i++) {
      const id = next();
      assert.ok(valid(id), id);
      assert.equal(Buffer.from(id, 'base64url').length, 32);
      assert.ok(!seen.has(id), `id repeated: ${id}`);
      seen.add(id);
    }
  });

  it('two generators never hand out the same bytes', () => {
    const a = makeIdGenerator('base64url');
    const b = makeIdGenerator('base64url');
    const fromA = new Set(Array.from({ length: 300 }, a));
    for (let i = 0; i < 300; i++) assert.ok(!fromA.has(b()));
  });

  it('uuid ids are version-4 UUIDs', () => {
    const next = makeIdGenerator('uuid');
    const valid = makeIdValidator('uuid');
    for (let i = 0; i < 10; i++) assert.ok(valid(next()));
  });

  it('on read both shapes are accepted, whatever idFormat makes; nothing else is', () => {
    const ours = makeIdGenerator('base64url')();
    const quarts = makeIdGenerator('uuid')();
    for (const format of ['base64url', 'uuid'] as const) {
      const valid = makeIdValidator(format);
      assert.ok(valid(ours), `${format}: a base64url id`);
      assert.ok(valid(quarts), `${format}: a Quart-Session uuid4 id`);
    }
    const refused = [
      '',
      'A'.repeat(42),
      'A'.repeat(44),
      'A'.repeat(42) + '=',
      'B8EBBF02-CC7A-4B0B-824F-22A984C8C0B8', // Python's str(uuid4()) is lower-case
      quarts.replaceAll('-', ''),
      `{${quarts}}`,
      '00000000-0000-0000-0000-000000000000', // not a version-4 UUID
      `${quarts} `,
      '../../etc/passwd',
      'session:' + ours,
    ];
    for (const candidate of refused) assert.equal(isWellFormedId(candidate), false, candidate);
  });
});
