import type { Context } from 'koa';
import { SessionOptionsError } from './errors.js';
import type { IdFormat } from './id.js';
import type { Serializer } from './serializers/serializer.js';
import type { SessionStore } from './stores/store.js';
import type { MemoryStoreOptions } from './stores/memory.js';
import type { MemcachedOption } from './stores/memcached.js';
import type { FilesystemStoreOptions } from './stores/filesystem.js';

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
  | ((error: import('./errors.js').SessionStoreError, ctx: Context) => void | Promise<void>);

export type BuiltinStoreType = 'memory' | 'memcached' | 'filesystem';

export interface QSessionOptions {
  /** Built-in store by name (Quart: SESSION_TYPE). Default `memory`. Ignored when `store` is given. */
  type?: BuiltinStoreType;
  /** Any object implementing `SessionStore`; takes precedence over `type`. */
  store?: SessionStore;
  /** Options for the memory store (`type: 'memory'`). */
  memory?: MemoryStoreOptions;
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
  /** How session data is stored. Default: plain JSON. */
  serializer?: Serializer;
  /** Longest wait for one store operation, in ms. Default 1000. */
  storeTimeout?: number;
  /** Store failure: `fail` answers 503 (default), `anonymous` carries on without a session, or your function. */
  onStoreError?: StoreErrorPolicy;
  /** Largest serialized session in bytes; larger ones are refused with `SessionTooLargeError`. Default 1 MiB. */
  maxSize?: number;
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
}

const DAY = 24 * 60 * 60 * 1000;
const KNOWN_OPTIONS = new Set([
  'type', 'store', 'memory', 'memcached', 'directory', 'filesystem', 'keyPrefix', 'permanent', 'lifetime', 'rolling', 'explicit', 'staticFile',
  'isStatic', 'cookie', 'idFormat', 'serializer', 'storeTimeout', 'onStoreError', 'maxSize',
]);
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
  };
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
  return resolved;
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
