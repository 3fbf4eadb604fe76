import type { Context } from 'koa';
import type { SessionStoreError } from '../errors.js';
import type { SerializerName } from '../serializers/index.js';
import type { Serializer } from '../serializers/serializer.js';
import type { SessionStore } from '../stores/store.js';
import type { MemoryStoreOptions } from '../stores/memory.js';
import type { RedisClientLike } from '../stores/redis/connection.js';
import type { RedisStoreOptions } from '../stores/redis/store.js';
import type { MemcachedOption } from '../stores/memcached/store.js';
import type { FilesystemStoreOptions } from '../stores/filesystem/store.js';
import type { QuartPinning } from './quart-pinning.js';

/**
 * Session ids. `base64url` (default): 256 bits from the OS CSPRNG, 43 characters.
 * `uuid`: a random UUID like Quart-Session's, for apps that share the cookie with a Quart app.
 * The format decides only the shape of NEW ids: on read, both shapes are accepted (a cookie a
 * Quart app issued keeps working after a migration, and Flask-Session 0.8's `token_urlsafe(32)` ids
 * have the base64url shape); an id of any other shape is rejected before it can reach a store.
 */
export type IdFormat = 'base64url' | 'uuid';

/** How pinned addresses are compared: the exact address, or its IPv4 /24 / IPv6 /64 network. */
export type PinningMode = 'exact' | 'subnet';

/** A cookie-signing key: text (UTF-8) or bytes, at least 16 bytes either way. */
export type SigningKey = string | Uint8Array;

export interface ClientAddressOptions {
  /** Read X-Forwarded-For counting `proxyHops` trusted proxies from the right (Quart: SESSION_HIJACK_REVERSE_PROXY). */
  readonly reverseProxy: boolean;
  readonly proxyHops: number;
  /** Overrides everything else; a value that is not an IP address falls back to the socket address. */
  readonly getClientIp: ((ctx: Context) => string | undefined) | undefined;
}

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
  /** CHIPS: a cookie partitioned by top-level site, for a site embedded in others. Needs `secure`. Default false. */
  partitioned?: boolean;
  /** Chrome's `Priority` attribute: which cookies go last when a site has too many. Default: none. */
  priority?: CookiePriority;
}

export type CookiePriority = 'low' | 'medium' | 'high';

/** What to do when the store fails or times out. */
export type StoreErrorPolicy =
  | 'fail'
  | 'anonymous'
  | ((error: SessionStoreError, ctx: Context) => void | Promise<void>);

/** See `onConflict`. */
export type ConflictPolicy = 'fail' | 'overwrite';

export type BuiltinStoreType = 'memory' | 'redis' | 'memcached' | 'filesystem';

export interface QSessionOptions {
  /**
   * Built-in store by name (Quart: SESSION_TYPE). Without it, `redis`, `memcached` or `directory`
   * selects its store, else `memory`. Naming another store than a sub-option given is an error.
   * Ignored when `store` is given.
   */
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
  redis?: string | RedisClientLike | RedisStoreOptions;
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
  /**
   * Requests that write (see `isWriter`) of one session wait for each other, in this process (and with
   * `lock`, across processes), from load to commit, so parallel read-modify-writes
   * (`session.count += 1`) neither conflict nor lose an update. This is the longest a writer waits,
   * in ms, before it goes ahead in parallel (a conflicting change then fails with
   * `SessionConflictError`, see `onConflict`). Readers never wait. 0: writers do not wait. Default 1000,
   * 5000 with `lock`.
   */
  turnWait?: number;
  /**
   * Which requests write, and so wait for the writers of their session before loading it. Default: every
   * method but GET, HEAD and OPTIONS (the safe methods a browser fires in parallel). A GET that writes
   * (a flash message, a visit counter) is still saved, by compare-and-set, without waiting.
   */
  isWriter?: (ctx: Context) => boolean;
  /**
   * A key this request changed was also changed by another save after this request read it:
   * `'fail'` (default) answers 409 with `SessionConflictError` and stores none of the request's
   * changes, so nothing acknowledged is lost; `'overwrite'` lets this request's value win. Both emit
   * the `conflict` event. Changes to different keys always merge.
   */
  onConflict?: ConflictPolicy;
  /**
   * Orders a session's writers across processes (node:cluster, PM2, replicas) with a lease in the store,
   * taken by writers only (never by readers) and released when the write lands, or after `ttl` ms if
   * its process dies (default 10000). Writers wait for it within `turnWait`. Default false.
   */
  lock?: boolean | { ttl?: number };
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
   * it must match `reverseProxy` when `hijackProtection` is on. With `'forwarded-for'`, pins holding
   * the raw X-Forwarded-For text are compared as Quart compares them and new sessions are pinned with
   * that text. See docs/python-interop-pinning.md.
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
  partitioned: boolean;
  priority: CookiePriority | undefined;
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
  serializer: Serializer;
  idFormat: IdFormat;
  storeTimeout: number;
  turnWait: number;
  onConflict: ConflictPolicy;
  lock: { readonly ttl: number } | undefined;
  isWriter: ((ctx: Context) => boolean) | undefined;
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
