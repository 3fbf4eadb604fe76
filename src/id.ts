import { randomBytes, randomUUID } from 'node:crypto';

/**
 * Session ids. `base64url` (default): 256 bits from the OS CSPRNG, 43 characters.
 * `uuid`: a random UUID like Quart-Session's, for apps that share the cookie with a Quart app.
 * Whatever the format, an id of any other shape is rejected before it can reach a store.
 */
export type IdFormat = 'base64url' | 'uuid';

const SHAPES: Record<IdFormat, RegExp> = {
  base64url: /^[A-Za-z0-9_-]{43}$/,
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
};

export function makeIdGenerator(format: IdFormat): () => string {
  return format === 'uuid' ? () => randomUUID() : () => randomBytes(32).toString('base64url');
}

export function makeIdValidator(format: IdFormat): (candidate: string) => boolean {
  const shape = SHAPES[format];
  return (candidate) => candidate.length <= 64 && shape.test(candidate);
}
