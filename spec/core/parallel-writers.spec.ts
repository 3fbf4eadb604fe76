/**
 * Bursts on one session, on every store that is shared between processes: none of the requests
 * fails and no change is lost (issue 13). Each store runs a throwaway server or directory.
 */
import { FilesystemStore, MemcachedStore, RedisStore, type SessionStore } from 'koa-qsession';
import { parallelWriterCases } from '../support/parallel-writers.js';
import { startMemcached } from '../support/memcached.js';
import { startStandalone } from '../support/redis.js';
import { tempDir } from '../support/process.js';

parallelWriterCases('redis', async () => {
  const { server, cleanup } = await startStandalone();
  const opened: SessionStore[] = [];
  return {
    options: { type: 'redis', redis: server.url },
    store: () => opened[opened.push(new RedisStore(server.url)) - 1]!,
    async cleanup() {
      for (const store of opened) await store.close?.();
      await cleanup();
    },
  };
});

parallelWriterCases('memcached', async () => {
  const server = await startMemcached();
  return {
    options: { type: 'memcached', memcached: server.address },
    store: () => new MemcachedStore({ servers: server.address }),
    cleanup: () => server.stop(),
  };
});

parallelWriterCases('filesystem', async () => {
  const dir = tempDir('parallel-writers');
  return {
    options: { type: 'filesystem', directory: dir.path },
    store: () => new FilesystemStore({ directory: dir.path }),
    async cleanup() {
      dir.remove();
    },
  };
});
