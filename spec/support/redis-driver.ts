import nodeModule, { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type * as NodeRedis from 'redis';

/**
 * The node-redis major the Redis specs drive: 5 (the `redis` devDependency) unless
 * QSESSION_REDIS_MAJOR=6, which drives 6 (the `redis-v6` alias, `npm:redis@^6`). The peer range
 * says `^5.0.0 || ^6.0.0`, so the Redis store's specs run on each (scripts/test-matrix.mjs runs
 * them a second time on 6).
 *
 * On 6 every `redis` resolution in the process is sent to `redis-v6`: the store's own connection
 * loads `redis` by name (src/stores/load-driver.ts), exactly as in an application that has
 * `redis@6` installed, so that path is covered too, not only clients the specs create. Specs import
 * the driver from here (a static `import 'redis'` is resolved before any hook could be registered).
 */
export const REDIS_MAJOR: 5 | 6 = process.env.QSESSION_REDIS_MAJOR === '6' ? 6 : 5;

if (REDIS_MAJOR === 6) {
  // Bun has no module.registerHooks (hence no named import of it): the second major runs on Node (the matrix does so).
  const { registerHooks } = nodeModule as Partial<typeof nodeModule>;
  if (typeof registerHooks !== 'function') throw new Error('QSESSION_REDIS_MAJOR=6 needs module.registerHooks (Node >= 22.15)');
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const redirected = specifier === 'redis' || specifier.startsWith('redis/') ? `redis-v6${specifier.slice('redis'.length)}` : specifier;
      return nextResolve(redirected, context);
    },
  });
}

// Typed as v5's API, which the specs use; 6 keeps these entry points (its break is RESP3 by default).
const driver = (REDIS_MAJOR === 6 ? await import('redis-v6' as string) : await import('redis')) as typeof NodeRedis;
export const { createClient, createCluster, createSentinel } = driver;

/**
 * The version of `redis` that the store itself loads: resolved from src/stores/load-driver.ts as
 * loadDriver() resolves it, so a spec can show which major actually ran.
 */
export function storeDriverVersion(): string {
  const loadDriver = fileURLToPath(new URL('../../src/stores/load-driver.ts', import.meta.url));
  return (createRequire(loadDriver)('redis/package.json') as { version: string }).version;
}
