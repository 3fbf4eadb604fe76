import { isAbsolute } from 'node:path';
import { SessionOptionsError } from '../errors.js';
import type { MemcachedOption } from '../stores/memcached/store.js';
import type { RedisClientLike } from '../stores/redis/connection.js';
import type { RedisStoreOptions } from '../stores/redis/store.js';

/**
 * The values of the backend keys of a Quart / Flask config (SESSION_REDIS, SESSION_URI,
 * SESSION_MEMCACHED, SESSION_FILE_DIR), checked here the way the stores will check them, so that a
 * bad one is reported under its Python key at `fromQuartConfig` time rather than under an option
 * name the user never wrote when `qsession()` builds the store.
 *
 * In Python these keys often hold client objects (Flask-Session 0.3.2 has no other way to say where
 * Redis is). Such an object reaches Node as data (a JSON dump of the config): no Node client can be
 * made from it, so the error says what to put there instead.
 */

type RedisTarget = string | RedisClientLike | RedisStoreOptions;

/** SESSION_URI / SESSION_REDIS: a redis:// or rediss:// URL, a node-redis client, or the store's `{ url | client }` object. */
export function redisTarget(value: unknown, name: string): RedisTarget {
  if (typeof value === 'string') {
    const python = pythonRedisUrl(value);
    if (python !== undefined) throw pythonRedisClient(name, `its repr, ${JSON.stringify(value)}`, python);
    checkRedisUrl(value, name);
    return value;
  }
  if (isPlainData(value)) {
    if (onlyKeys(value, ['url', 'client', 'waitReplicas']) && (value.url !== undefined || value.client !== undefined)) {
      if (value.url !== undefined) checkRedisUrl(String(value.url), name);
      return value as RedisStoreOptions;
    }
    const repr = typeof value.repr === 'string' ? value.repr : '';
    throw pythonRedisClient(name, `${pythonClass(value) ?? 'an object that is no client'}`, pythonRedisUrl(repr));
  }
  const client = value as Partial<RedisClientLike> | null;
  if (client === null || typeof client !== 'object' || typeof client.withTypeMapping !== 'function' || typeof client.on !== 'function' || typeof client.listenerCount !== 'function') {
    throw new SessionOptionsError(name, `must be a redis:// or rediss:// URL or a connected node-redis v5 client, cluster or sentinel (got ${describe(value)})`);
  }
  return client as RedisClientLike;
}

function checkRedisUrl(value: string, name: string): void {
  if (/^unix:\/\//i.test(value)) {
    throw new SessionOptionsError(name, `is a unix:// socket URL, which node-redis does not read: set SESSION_REDIS to a connected node-redis client made with createClient({ socket: { path: '/path/to/redis.sock' } })`);
  }
  if (!/^rediss?:\/\/[^\s]*$/i.test(value)) throw new SessionOptionsError(name, `must be a redis:// or rediss:// URL (got ${describe(value)})`);
  try {
    new URL(value);
  } catch {
    throw new SessionOptionsError(name, 'must be a redis:// or rediss:// URL (got a string that is not a URL)');
  }
}

/**
 * redis-py's repr names the connection: `Redis<ConnectionPool<Connection<host=h,port=6379,db=0>>>`
 * (SSLConnection for rediss, UnixDomainSocketConnection<path=...>). The URL it stands for, when it
 * is one; `null` for a repr that is a redis-py client's but names no host; undefined for other text.
 */
function pythonRedisUrl(repr: string): string | null | undefined {
  if (!/^(?:Strict)?Redis(?:Cluster)?</.test(repr)) return undefined;
  const tcp = /<(SSL)?Connection<host=([^,>]+),port=(\d+)(?:,db=(\d+))?/.exec(repr);
  if (tcp) return `${tcp[1] ? 'rediss' : 'redis'}://${tcp[2]}:${tcp[3]}/${tcp[4] ?? '0'}`;
  const socket = /<UnixDomainSocketConnection<path=([^,>]+)/.exec(repr);
  return socket ? `unix://${socket[1]}` : null;
}

function pythonRedisClient(name: string, what: string, url: string | null | undefined): SessionOptionsError {
  const node = 'or set it to a connected node-redis client (`const client = createClient({ url }); await client.connect()`)';
  const instead = url?.startsWith('unix://')
    ? `set it to a connected node-redis client made with createClient({ socket: { path: ${JSON.stringify(url.slice('unix://'.length))} } })`
    : `set it to the URL of that Redis (${url ? `${JSON.stringify(url)}, with the password if it has one` : '"redis://host:6379/0"'}) ${node}`;
  return new SessionOptionsError(name, `holds a Python Redis client (${what}), which a Node process cannot use: ${instead}`);
}

/** SESSION_MEMCACHED: `"host:port,host:port"`, a memjs client, or the store's options object. */
export function memcachedTarget(value: unknown, name: string): MemcachedOption {
  if (typeof value === 'string') {
    if (/^<.*>$/s.test(value)) throw pythonMemcachedClient(name, `its repr, ${JSON.stringify(value)}`);
    const entry = /^(?:[^@\s,]+@)?[A-Za-z0-9.\-_]+(?::\d{1,5})?$|^(?:[^@\s,]+@)?\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/;
    if (value.split(',').some((part) => !entry.test(part.trim()))) {
      throw new SessionOptionsError(name, `must be "host:port" or "host:port,host:port" (got ${JSON.stringify(value)})`);
    }
    return value;
  }
  if (isPlainData(value)) {
    if (onlyKeys(value, ['servers', 'client', 'itemLimit', 'timeout'])) return value as MemcachedOption;
    throw pythonMemcachedClient(name, pythonClass(value) ?? 'an object that is no client');
  }
  const client = value as { servers?: unknown; incrSeq?: unknown } | null;
  if (client === null || typeof client !== 'object' || !Array.isArray(client.servers) || typeof client.incrSeq !== 'function') {
    throw new SessionOptionsError(name, `must be "host:port" or a memjs client (memjs.Client.create(...)) (got ${describe(value)})`);
  }
  return value as MemcachedOption;
}

function pythonMemcachedClient(name: string, what: string): SessionOptionsError {
  return new SessionOptionsError(name, `holds a Python memcached client (${what}), which a Node process cannot use: ` +
    'set it to the servers that client talks to ("host:port", several as "host:port,host:port") or to a memjs client (memjs.Client.create("host:port"))');
}

/**
 * SESSION_FILE_DIR: absolute, because a relative folder would be resolved against the Node
 * process's working directory, which is neither where the Python app kept its files nor a place
 * koa-qsession should write without being told.
 */
export function fileDirectory(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '' || !isAbsolute(value)) {
    throw new SessionOptionsError(name, `must be an absolute path (got ${describe(value)}): a relative one would land in the Node process's working directory`);
  }
  return value;
}

/** A value that is data (a parsed JSON object), not an instance of some client class. */
function isPlainData(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function onlyKeys(value: Record<string, unknown>, keys: readonly string[]): boolean {
  const names = Object.keys(value);
  return names.length > 0 && names.every((key) => keys.includes(key));
}

/** `{"__class__": "redis.client.Redis", ...}`: how build_quart_config.py (and many a JSON dump) writes an object. */
function pythonClass(value: Record<string, unknown>): string | undefined {
  const name = value.__class__ ?? value.__type__ ?? value.type;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'a list' : 'an object';
}
