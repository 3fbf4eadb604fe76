import { DEFAULTS } from '../defaults.js';
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

/** The sub-options that belong to one built-in store each. */
const STORE_SUB_OPTIONS = [
  ['redis', 'redis'],
  ['memcached', 'memcached'],
  ['directory', 'filesystem'],
  ['filesystem', 'filesystem'],
  ['memory', 'memory'],
] as const satisfies ReadonlyArray<readonly [keyof QSessionOptions, string]>;

/**
 * The built-in store the options ask for. `type` when given; otherwise the store whose sub-option
 * is there (`{ redis: url }` means Redis: falling back to the memory store would lose every session
 * on restart without a word). Sub-options of another store than `type`, of two stores, or next to
 * your own `store` are refused: one of them would be ignored.
 */
export function storeTypeOf(options: QSessionOptions): string {
  const given = STORE_SUB_OPTIONS.filter(([name]) => options[name] !== undefined);
  const implied = [...new Set(given.map(([, type]) => type))];
  const names = given.map(([name]) => `"${name}"`).join(' and ');
  if (options.store !== undefined) {
    if (given.length > 0) throw new SessionOptionsError('store', `is given, so ${names} would be ignored: remove ${given.length > 1 ? 'them' : 'it'}`);
    return 'custom';
  }
  if (implied.length > 1) {
    const others = given.slice(1).map(([name]) => `"${name}"`).join(' and ');
    throw new SessionOptionsError(given[0]![0], `and ${others} are options of different stores (${implied.join(', ')}): give the options of one store`);
  }
  if (options.type === undefined) return implied[0] ?? DEFAULTS.type;
  if (implied.length === 1 && implied[0] !== options.type) {
    throw new SessionOptionsError('type', `is ${JSON.stringify(options.type)} but ${names} ${given.length > 1 ? 'are options' : 'is an option'} of the ${implied[0]} store: ` +
      `remove one of them (without "type", ${names} alone selects the ${implied[0]} store)`);
  }
  return options.type;
}

export function createStore(options: QSessionOptions): SessionStore {
  const type = storeTypeOf(options);
  if (options.store !== undefined) {
    const store = options.store as Partial<SessionStore> | null;
    // An express-session / koa-session store passed as it is: refused, not wrapped behind the
    // user's back, because the wrapper loses compare-and-set and the user should choose that.
    const hint = foreignStoreHint(store);
    if (hint !== undefined) throw new SessionOptionsError('store', hint);
    for (const method of ['get', 'create', 'replace', 'delete', 'deleteIf', 'touch'] as const) {
      if (typeof store?.[method] !== 'function') throw new SessionOptionsError('store', `must implement SessionStore (missing ${method}())`);
    }
    return options.store;
  }
  const factory = Object.hasOwn(builtinStores, type) ? builtinStores[type] : undefined;
  if (!factory) {
    throw new SessionOptionsError('type', `must be one of ${Object.keys(builtinStores).map((t) => `"${t}"`).join(', ')} (got ${JSON.stringify(type)})`);
  }
  return factory(options);
}
