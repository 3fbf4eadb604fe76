import { randomFillSync, randomUUID } from 'node:crypto';

import type { IdFormat } from '../config/options.js';

/** Whatever the format, an id of any other shape is rejected before it can reach a store. */
const SHAPES: Record<IdFormat, RegExp> = {
  base64url: /^[A-Za-z0-9_-]{43}$/,
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
};

const ID_BYTES = 32;
/** 128 ids' worth of CSPRNG output per fill, as `randomUUID()` batches its own. */
const POOL_BYTES = ID_BYTES * 128;

/**
 * 256-bit ids from a pool that is refilled from the OS CSPRNG (`randomFillSync`) every 128 ids:
 * one `randomBytes(32)` per id cost more than the rest of a request that never stores anything.
 * Each byte of the pool is used for exactly one id.
 */
function pooledBase64urlId(): () => string {
  const pool = Buffer.allocUnsafe(POOL_BYTES);
  let offset = POOL_BYTES;
  return () => {
    if (offset === POOL_BYTES) {
      randomFillSync(pool);
      offset = 0;
    }
    const id = pool.toString('base64url', offset, offset + ID_BYTES);
    offset += ID_BYTES;
    return id;
  };
}

export function makeIdGenerator(format: IdFormat): () => string {
  return format === 'uuid' ? () => randomUUID() : pooledBase64urlId();
}

export function makeIdValidator(format: IdFormat): (candidate: string) => boolean {
  const shape = SHAPES[format];
  return (candidate) => candidate.length <= 64 && shape.test(candidate);
}
