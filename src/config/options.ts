import type { Context } from 'koa';
import { SessionOptionsError } from '../errors.js';
import type { ClientAddressOptions, PinningMode } from '../core/address.js';
import type { IdFormat } from '../core/id.js';
import { resolveSerializer, type SerializerName } from '../serializers/index.js';
import type { SigningKey } from '../core/signing.js';
import type { Serializer } from '../serializers/serializer.js';
import type { SessionStore } from '../stores/store.js';
import type { MemoryStoreOptions } from '../stores/memory.js';
import type { RedisClientLike } from '../stores/redis/connection.js';
import type { MemcachedOption } from '../stores/memcached/store.js';
import type { FilesystemStoreOptions } from '../stores/filesystem/store.js';
import { resolveQuartPinning, type QuartPinning } from './quart-pinning.js';

export type SameSite = 'lax' | 'strict' | 'none' | false;

export interface SessionCookieOptions {
  /** Cookie name. Quart: SESSION_COOKIE_NAME. Default `session`. */
  name?: string;
  /** Quart: SESSION_COOKIE_PATH. Default `/`. */
  path?: string;
  /** Quart: SESSION_COOKIE_DOMAIN. Default: none (host-only cookie). */
  domain?: string;
  /** Quart: SESSION_COOKIE_HTTPONLY. Default true. */
  httpOnly?: boolean;
  /** Quart: SESSION_COOKIE_SECURE. `'auto'` follows `ctx.secure` (set `app.proxy` behind TLS-terminating proxies). Default false. */
  secure?: boolean | 'auto';
  /** Quart: SESSION_COOKIE_SAMESITE. Default `lax`. */
  sameSite?: SameSite;
}

/** What to do when the store fails or times out. */
export type StoreErrorPolicy =
  | 'fail'
  | 'anonymous'
  | ((error: import('../errors.js').SessionStoreError, ctx: Context) => void | Promise<void>);

export type BuiltinStoreType = 'memory' | 'redis' | 'memcached' | 'filesystem';

export interface QSessionOptions {
  /** Built-in store by name (Quart: SESSION_TYPE). Default `memory`. Ignored when `store` is given. */
  type?: BuiltinStoreType;
  /** Any object implementing `SessionStore`; takes precedence over `type`. */
  store?: SessionStore;
  /** Options for the memory store (`type: 'memory'`). */
  memory?: MemoryStoreOptions;
  /**
   * For `type: 'redis'`: a redis:// or rediss:// URL (the store opens and closes its own connection;
   * Quart: SESSION_URI, default `redis://localhost:6379`), or a connected node-redis client, cluster
   * or sentinel that the application owns (Quart: SESSION_REDIS).
   */
  redis?: string | RedisClientLike;
  /** `type: 'memcached'`: `"host:port,host:port"`, a memjs client, or `{ servers | client, itemLimit, timeout }` (Quart: SESSION_MEMCACHED). */
  memcached?: MemcachedOption;
  /** `type: 'filesystem'`: the directory holding one file per session (created if missing). */
  directory?: string;
  /** More options for the filesystem store: `maxEntries`, `sweepInterval`, `lockStaleMs`. */
  filesystem?: FilesystemStoreOptions;
  /** Prefix of every store key (Quart: SESSION_KEY_PREFIX). Default `session:`. */
  keyPrefix?: string;
  /** Cookie outlives the browser session (Quart: SESSION_PERMANENT). Default true. */
  permanent?: boolean;
  /** Idle lifetime in ms: store TTL and cookie expiry (Quart: PERMANENT_SESSION_LIFETIME). Default 31 days. */
  lifetime?: number;
  /** Refresh the TTL and cookie on every request that reads the session, not only on writes. Default false. */
  rolling?: boolean;
  /** Save only when the handler called `session.dirty()` (Quart: SESSION_EXPLICIT). Default false. */
  explicit?: boolean;
  /** Let static-file responses set cookies and save (Quart: SESSION_STATIC_FILE). Default false. */
  staticFile?: boolean;
  /** Marks more responses as static files, besides file-stream bodies (koa-static, koa-send). */
  isStatic?: (ctx: Context) => boolean;
  cookie?: SessionCookieOptions;
  /** Shape of new ids; ids of any other shape are ignored. Default `base64url`. */
  idFormat?: IdFormat;
  /**
   * How session data is stored: `'tagged-json'` (default, byte-compatible with Quart / Flask),
   * `'json'`, `'v8'` (Node-only, bytes), or your own `{ name, dumps, loads }`.
   */
  serializer?: Serializer | SerializerName;
  /** Longest wait for one store operation, in ms. Default 1000. */
  storeTimeout?: number;
  /** Store failure: `fail` answers 503 (default), `anonymous` carries on without a session, or your function. */
  onStoreError?: StoreErrorPolicy;
  /** Largest serialized session in bytes; larger ones are refused with `SessionTooLargeError`. Default 1 MiB. */
  maxSize?: number;
  /**
   * Pin each session to the client address (Quart: SESSION_HIJACK_PROTECTION). The address is stored
   * as Quart's `_addr`; a request from another address deletes the session and starts a fresh one.
   * Default false.
   */
  hijackProtection?: boolean;
  /**
   * Take the pinned address from X-Forwarded-For, counting `proxyHops` trusted proxies from the right
   * (Quart: SESSION_HIJACK_REVERSE_PROXY). Default false: Koa's `ctx.ip` (which honours `app.proxy`).
   */
  reverseProxy?: boolean;
  /** Trusted proxies in front of the app that each append to X-Forwarded-For. Default 1. */
  proxyHops?: number;
  /** Your own client address for pinning; overrides `reverseProxy` and `ctx.ip`. */
  getClientIp?: (ctx: Context) => string | undefined;
  /** `exact` (default) or `subnet`: the same IPv4 /24 or IPv6 /64 counts as the same client. */
  pinning?: PinningMode;
  /**
   * A Quart-Session app shares the store and fills `_addr` by this rule (`fromQuartConfig` sets it):
   * it must match `reverseProxy` when `hijackProtection` is on. See docs/python-interop-pinning.md.
   */
  quartPinning?: QuartPinning;
  /**
   * Sign the cookie (`id.signature`, HMAC-SHA256). The first key signs, every key verifies; a cookie
   * signed with an older key is re-issued with the first. Not taken from `app.keys` automatically.
   * Each key at least 16 bytes.
   */
  keys?: readonly SigningKey[];
  /** Absolute lifetime in ms from the session's creation, whatever the activity. Default: none. */
  maxAge?: number;
  /**
   * The data key that holds the user id (e.g. `user_id`); enables `listUserSessions` and
   * `destroyUserSessions`. Needs a store with a user index. Default: none.
   */
  userKey?: string;
}

export interface ResolvedCookieOptions {
  name: string;
  path: string;
  domain: string | undefined;
  httpOnly: boolean;
  secure: boolean | 'auto';
  sameSite: SameSite;
}

export interface ResolvedOptions {
  keyPrefix: string;
  permanent: boolean;
  lifetime: number;
  rolling: boolean;
  explicit: boolean;
  staticFile: boolean;
  isStatic: ((ctx: Context) => boolean) | undefined;
  cookie: ResolvedCookieOptions;
  idFormat: IdFormat;
  storeTimeout: number;
  onStoreError: StoreErrorPolicy;
  maxSize: number;
  hijackProtection: boolean;
  client: ClientAddressOptions;
  pinning: PinningMode;
  quartPinning: QuartPinning | undefined;
  keys: readonly Uint8Array[] | undefined;
  maxAge: number | undefined;
  userKey: string | undefined;
}

const DAY = 24 * 60 * 60 * 1000;
const KNOWN_OPTIONS = new Set([
  'type', 'store', 'memory', 'redis', 'memcached', 'directory', 'filesystem', 'keyPrefix', 'permanent', 'lifetime', 'rolling', 'explicit', 'staticFile',
  'isStatic', 'cookie', 'idFormat', 'serializer', 'storeTimeout', 'onStoreError', 'maxSize',
  'hijackProtection', 'reverseProxy', 'proxyHops', 'getClientIp', 'pinning', 'quartPinning', 'keys', 'maxAge', 'userKey',
]);
/** Browsers ignore a Set-Cookie line over 4096 bytes (RFC 6265 6.1 minimum); we never send one. */
export const MAX_COOKIE_BYTES = 4096;
/** Longest cookie value we write: a 64-character id, a dot and a 43-character signature. */
const MAX_VALUE_LENGTH = 64 + 1 + 43;
/** `; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Strict; Path=; Domain=`, rounded up. */
const ATTRIBUTE_OVERHEAD = 128;
const KNOWN_COOKIE_OPTIONS = new Set(['name', 'path', 'domain', 'httpOnly', 'secure', 'sameSite']);
// RFC 6265 cookie-name is an HTTP token.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const KEY_PREFIX = /^[A-Za-z0-9_:.-]{0,100}$/;

export function resolveOptions(options: QSessionOptions = {}): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw new SessionOptionsError('options', 'must be an object');
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) throw new SessionOptionsError(key, 'is not a koa-qsession option');
  }
  const cookie = resolveCookie(options.cookie ?? {});
  resolveSerializer(options.serializer); // validates at start-up, naming the option
  return {
    keyPrefix: check('keyPrefix', options.keyPrefix, 'session:', (v) => typeof v === 'string' && KEY_PREFIX.test(v),
      'must be at most 100 characters of A-Z a-z 0-9 _ : . -'),
    permanent: bool('permanent', options.permanent, true),
    lifetime: positiveInt('lifetime', options.lifetime, 31 * DAY),
    rolling: bool('rolling', options.rolling, false),
    explicit: bool('explicit', options.explicit, false),
    staticFile: bool('staticFile', options.staticFile, false),
    isStatic: check('isStatic', options.isStatic, undefined, (v) => typeof v === 'function', 'must be a function'),
    cookie,
    idFormat: check('idFormat', options.idFormat, 'base64url', (v) => v === 'base64url' || v === 'uuid',
      'must be "base64url" or "uuid"'),
    storeTimeout: positiveInt('storeTimeout', options.storeTimeout, 1000),
    onStoreError: check('onStoreError', options.onStoreError, 'fail',
      (v) => v === 'fail' || v === 'anonymous' || typeof v === 'function', 'must be "fail", "anonymous" or a function'),
    maxSize: positiveInt('maxSize', options.maxSize, 1024 * 1024),
    hijackProtection: bool('hijackProtection', options.hijackProtection, false),
    client: {
      reverseProxy: bool('reverseProxy', options.reverseProxy, false),
      proxyHops: check('proxyHops', options.proxyHops, 1, (v) => Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= 32,
        'must be a whole number from 1 to 32'),
      getClientIp: check('getClientIp', options.getClientIp, undefined, (v) => typeof v === 'function', 'must be a function'),
    },
    pinning: check('pinning', options.pinning, 'exact', (v) => v === 'exact' || v === 'subnet', 'must be "exact" or "subnet"'),
    quartPinning: resolveQuartPinning(options),
    keys: resolveKeys(options.keys),
    maxAge: check('maxAge', options.maxAge, undefined, (v) => Number.isSafeInteger(v) && (v as number) > 0, 'must be a positive whole number of ms'),
    userKey: check('userKey', options.userKey, undefined, (v) => typeof v === 'string' && v.length > 0 && v.length <= 200,
      'must be a non-empty data key name'),
  };
}

/** Signing keys as bytes. Short keys are refused: the key is all that stands between a client and forged cookies. */
function resolveKeys(keys: readonly SigningKey[] | undefined): readonly Uint8Array[] | undefined {
  if (keys === undefined) return undefined;
  if (!Array.isArray(keys) || keys.length === 0) throw new SessionOptionsError('keys', 'must be a non-empty array of strings or Buffers');
  return keys.map((key: unknown, index) => {
    const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key instanceof Uint8Array ? Buffer.from(key) : undefined;
    if (bytes === undefined) throw new SessionOptionsError(`keys[${index}]`, `must be a string or a Buffer (got ${describe(key)})`);
    if (bytes.length < 16) throw new SessionOptionsError(`keys[${index}]`, `must be at least 16 bytes (got ${bytes.length})`);
    return bytes;
  });
}

function resolveCookie(cookie: SessionCookieOptions): ResolvedCookieOptions {
  if (cookie === null || typeof cookie !== 'object') throw new SessionOptionsError('cookie', 'must be an object');
  for (const key of Object.keys(cookie)) {
    if (!KNOWN_COOKIE_OPTIONS.has(key)) throw new SessionOptionsError(`cookie.${key}`, 'is not a cookie option');
  }
  const resolved: ResolvedCookieOptions = {
    name: check('cookie.name', cookie.name, 'session', (v) => typeof v === 'string' && TOKEN.test(v), 'must be a cookie name (an HTTP token)'),
    path: check('cookie.path', cookie.path, '/', (v) => typeof v === 'string' && /^\/[\x20-\x3a\x3c-\x7e]*$/.test(v), 'must start with / and hold no ";" or control characters'),
    domain: check('cookie.domain', cookie.domain, undefined,
      (v) => typeof v === 'string' && /^\.?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(v), 'must be a domain name'),
    httpOnly: bool('cookie.httpOnly', cookie.httpOnly, true),
    secure: check('cookie.secure', cookie.secure, false, (v) => typeof v === 'boolean' || v === 'auto', 'must be true, false or "auto"'),
    sameSite: check('cookie.sameSite', cookie.sameSite, 'lax', (v) => v === 'lax' || v === 'strict' || v === 'none' || v === false,
      'must be "lax", "strict", "none" or false'),
  };
  if (resolved.sameSite === 'none' && resolved.secure === false) {
    throw new SessionOptionsError('cookie.sameSite', '"none" requires cookie.secure (browsers drop SameSite=None cookies that are not Secure)');
  }
  checkCookiePrefix(resolved);
  const longest = resolved.name.length + 1 + MAX_VALUE_LENGTH + resolved.path.length + (resolved.domain?.length ?? 0) + ATTRIBUTE_OVERHEAD;
  if (longest > MAX_COOKIE_BYTES) {
    throw new SessionOptionsError('cookie', `name, path and domain make a cookie of up to ${longest} bytes, over the ${MAX_COOKIE_BYTES} browsers keep`);
  }
  return resolved;
}

/** Browsers refuse `__Host-` / `__Secure-` cookies that break these rules (RFC 6265bis 4.1.3): fail at start-up instead. */
function checkCookiePrefix(cookie: ResolvedCookieOptions): void {
  const name = cookie.name.toLowerCase();
  if (!name.startsWith('__host-') && !name.startsWith('__secure-')) return;
  const prefix = name.startsWith('__host-') ? '__Host-' : '__Secure-';
  if (cookie.secure !== true) throw new SessionOptionsError('cookie.secure', `must be true for a ${prefix} cookie name (got ${describe(cookie.secure)})`);
  if (prefix === '__Host-') {
    if (cookie.path !== '/') throw new SessionOptionsError('cookie.path', `must be "/" for a __Host- cookie name (got ${describe(cookie.path)})`);
    if (cookie.domain !== undefined) throw new SessionOptionsError('cookie.domain', 'must not be set for a __Host- cookie name');
  }
}

function check<T>(name: string, value: T | undefined, fallback: T, valid: (v: unknown) => boolean, rule: string): T {
  if (value === undefined) return fallback;
  if (!valid(value)) throw new SessionOptionsError(name, `${rule} (got ${describe(value)})`);
  return value;
}

function bool(name: string, value: boolean | undefined, fallback: boolean): boolean {
  return check(name, value, fallback, (v) => typeof v === 'boolean', 'must be true or false');
}

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  return check(name, value, fallback, (v) => Number.isSafeInteger(v) && (v as number) > 0, 'must be a positive whole number');
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}
