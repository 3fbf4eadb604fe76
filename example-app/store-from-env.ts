import type { QSessionOptions } from 'koa-qsession';

/**
 * Picks the session store from the environment: SESSION_TYPE=memory (default) and the variables
 * each store needs. One case per store, so a new store is one more case here.
 */
export function storeOptionsFromEnv(env: NodeJS.ProcessEnv): QSessionOptions {
  const type = env.SESSION_TYPE ?? 'memory';
  switch (type) {
    case 'memory':
      return { type: 'memory' };
    case 'redis':
      // SESSION_TYPE=redis REDIS_URL=redis://127.0.0.1:6379 npm start
      return { type: 'redis', redis: env.REDIS_URL ?? 'redis://127.0.0.1:6379' };
    default:
      throw new Error(`SESSION_TYPE=${type} is not a store this example knows (memory, redis)`);
  }
}
