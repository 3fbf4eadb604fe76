import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeIdGenerator, makeIdValidator } from '../../src/core/id.js';

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
});
