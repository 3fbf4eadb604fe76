import { SessionOptionsError } from '../errors.js';
import type { QSessionOptions } from './options.js';
import { FilesystemStore } from '../stores/filesystem/store.js';
import { MemcachedStore } from '../stores/memcached/store.js';
import { MemoryStore } from '../stores/memory.js';
import { RedisStore } from '../stores/redis/store.js';
import type { SessionStore } from '../stores/store.js';
import { foreignStoreHint } from '../stores/foreign/shared.js';

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
    // An express-session / koa-session store passed as it is: refused, not wrapped behind the
    // user's back, because the wrapper loses compare-and-set and the user should choose that.
    const hint = foreignStoreHint(store);
    if (hint !== undefined) throw new SessionOptionsError('store', hint);
    for (const method of ['get', 'create', 'replace', 'delete', 'touch'] as const) {
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
