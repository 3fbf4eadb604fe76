import type { QSessionOptions } from 'koa-qsession';

/**
 * Picks the session store from the environment: SESSION_TYPE=memory (default) and the variables
 * each store needs: SESSION_TYPE=redis REDIS_URL=redis://127.0.0.1:6379;
 * SESSION_TYPE=memcached MEMCACHED_SERVERS=127.0.0.1:11211,127.0.0.1:11212;
 * SESSION_TYPE=filesystem SESSION_DIR=./.sessions. One case per store, so a new store is one more case here.
 */
export function storeOptionsFromEnv(env: NodeJS.ProcessEnv): QSessionOptions {
  const type = env.SESSION_TYPE ?? 'memory';
  switch (type) {
    case 'memory':
      return { type: 'memory' };
    case 'redis':
      return { type: 'redis', redis: env.REDIS_URL ?? 'redis://127.0.0.1:6379' };
    case 'memcached':
      return { type: 'memcached', memcached: env.MEMCACHED_SERVERS ?? '127.0.0.1:11211' };
    case 'filesystem':
      return { type: 'filesystem', directory: env.SESSION_DIR ?? './.sessions' };
    default:
      throw new Error(`SESSION_TYPE=${type} is not a store this example knows (memory, redis, memcached, filesystem)`);
  }
}
