import { SessionOptionsError } from '../errors.js';
import type { QSessionOptions } from './options.js';
import { FilesystemStore } from '../stores/filesystem/store.js';
import { MemcachedStore } from '../stores/memcached/store.js';
import { MemoryStore } from '../stores/memory.js';
import { RedisStore } from '../stores/redis/store.js';
import type { SessionStore } from '../stores/store.js';

/**
 * The built-in store types selectable with `type` (Quart's SESSION_TYPE). A store that is not
 * built in needs no entry here: pass an instance as `qsession({ store })`.
 */
const builtinStores: Record<string, (options: QSessionOptions) => SessionStore> = {
  memory: (options) => new MemoryStore(options.memory),
  redis: (options) => new RedisStore(options.redis),
  memcached: (options) => new MemcachedStore(options.memcached),
  filesystem: (options) => new FilesystemStore({ ...options.filesystem, directory: options.directory ?? options.filesystem?.directory }),
};

export function createStore(options: QSessionOptions): SessionStore {
  if (options.store !== undefined) {
    const store = options.store as Partial<SessionStore> | null;
    for (const method of ['get', 'create', 'replace', 'delete', 'deleteIf', 'touch'] as const) {
      if (typeof store?.[method] !== 'function') throw new SessionOptionsError('store', `must implement SessionStore (missing ${method}())`);
    }
    return options.store;
  }
  const type = options.type ?? 'memory';
  const factory = Object.hasOwn(builtinStores, type) ? builtinStores[type] : undefined;
  if (!factory) {
    throw new SessionOptionsError('type', `must be one of ${Object.keys(builtinStores).map((t) => `"${t}"`).join(', ')} (got ${JSON.stringify(type)})`);
  }
  return factory(options);
}
