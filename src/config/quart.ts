import { debuglog } from 'node:util';
import { SessionOptionsError } from '../errors.js';
import { describe, fileDirectory, memcachedTarget, redisTarget } from './quart-backends.js';
import { resolveOptions } from './resolve.js';
import { storeTypeOf } from './store-factory.js';
import type { BuiltinStoreType, QSessionOptions, SessionCookieOptions } from './options.js';

/**
 * The same NODE_DEBUG section as core/debug.ts (`NODE_DEBUG=koa-qsession`); config sits below core
 * in the layers, so it asks util.debuglog itself. Lines name Python keys, never their values (a
 * SESSION_URI may carry a password).
 */
const debug = debuglog('koa-qsession');

/**
 * A Quart / Flask style config object, as Python would print `app.config` as JSON: `None` is `null`,
 * a `timedelta` is its `total_seconds()`. Keys other than `SESSION_*` are ignored, except the few
 * Quart and Flask read for sessions (`PERMANENT_SESSION_LIFETIME`, `SECRET_KEY`,
 * `SECRET_KEY_FALLBACKS`, `APPLICATION_ROOT`).
 */
export type QuartSessionConfig = Record<string, unknown>;

/** What `fromQuartConfig` builds, before `resolveOptions` checks it. */
interface Draft {
  readonly options: QSessionOptions;
  readonly cookie: SessionCookieOptions;
  /** Option path (`lifetime`, `cookie.name`) -> the Python key it came from, for error messages. */
  readonly source: Map<string, string>;
}

type Mapper = (value: unknown, draft: Draft, name: string) => void;

/**
 * A key of Quart-Session 3.0, Flask 3.1 or Flask-Session 0.8: mapped onto an option, or ignored for a
 * stated reason. `backend`: the key is a setting of that store alone, read only when SESSION_TYPE
 * selects it (the dicts Session(app) builds carry every backend's defaults, whatever the type).
 */
export type QuartKey = ({ readonly map: Mapper } | { readonly ignored: string }) & { readonly backend?: BuiltinStoreType };

const option = <K extends keyof QSessionOptions>(target: K): Mapper => (value, draft, name) => {
  draft.options[target] = value as QSessionOptions[K];
  draft.source.set(target, name);
};
const cookieField = <K extends keyof SessionCookieOptions>(field: K): Mapper => (value, draft, name) => {
  draft.cookie[field] = value as SessionCookieOptions[K];
  draft.source.set(`cookie.${field}`, name);
};
const ignored = (reason: string): QuartKey => ({ ignored: reason });
const nothing: Mapper = () => {};

/** SESSION_TYPE values: koa-qsession's store. */
const STORE_TYPES: Record<string, BuiltinStoreType> = {
  redis: 'redis',
  // Quart-Session's Redis client for the Trio event loop: the same Redis, the same keys.
  'redis+trio': 'redis',
  memcached: 'memcached',
  // Flask-Session's (Quart-Session 3.0 has none): koa-qsession's own file format, see SESSION_FILE_DIR.
  filesystem: 'filesystem',
  memory: 'memory',
};

/**
 * SESSION_TYPE "null", the default of Quart-Session and Flask-Session, is refused rather than
 * imitated: their null interface keeps nothing (every request opens an empty session, a write only
 * sends a new cookie), which in Python is a loud warning at start-up and in a Koa app would be
 * logins that silently never stick. Mapping it onto some other store would invent a place to keep
 * sessions the config never named (the working directory, in older versions of this function).
 */
const NULL_TYPE = 'is "null", which Quart-Session and Flask-Session default to: it keeps no sessions ' +
  '(every request starts an empty one), and koa-qsession does not imitate that. Set SESSION_TYPE to the ' +
  'store the Python app uses ("redis", "memcached", "filesystem"), or set it to None (null) and choose ' +
  "the store in qsession()'s own options: qsession({ ...fromQuartConfig({ ...config, SESSION_TYPE: null }), redis: url })";

const NO_BACKEND = 'settings of a backend koa-qsession has no store for (MongoDB, SQLAlchemy, DynamoDB, cachelib, PostgreSQL); SESSION_TYPE naming that backend is an error, the settings alone are harmless';

/**
 * Every key Quart-Session 3.0, Flask 3.1 and Flask-Session 0.8 define (and Quart-Session's older
 * names). docs/python-interop-config.md is the table for users; a spec keeps the two in step.
 */
export const QUART_KEYS: Readonly<Record<string, QuartKey>> = {
  SESSION_TYPE: {
    map: (value, draft, name) => {
      draft.options.type = storeType(value, name);
      draft.source.set('type', name);
    },
  },
  SESSION_KEY_PREFIX: { map: option('keyPrefix') },
  SESSION_PERMANENT: { map: option('permanent') },
  SESSION_EXPLICIT: { map: option('explicit') },
  SESSION_STATIC_FILE: { map: option('staticFile') },
  /** Flask's rule (refresh the cookie of a permanent session on every request); Quart-Session ignores it. */
  SESSION_REFRESH_EACH_REQUEST: { map: option('rolling') },
  SESSION_COOKIE_NAME: { map: cookieField('name') },
  SESSION_COOKIE_DOMAIN: {
    // Flask 2.2 and older took False for "no domain".
    map: (value, draft, name) => (value === false ? undefined : cookieField('domain')(value, draft, name)),
  },
  SESSION_COOKIE_PATH: { map: cookieField('path') },
  SESSION_COOKIE_HTTPONLY: { map: cookieField('httpOnly') },
  SESSION_COOKIE_SECURE: { map: cookieField('secure') },
  SESSION_COOKIE_SAMESITE: {
    map: (value, draft, name) => cookieField('sameSite')(typeof value === 'string' ? value.toLowerCase() : value, draft, name),
  },
  SESSION_COOKIE_PARTITIONED: {
    map: (value, _draft, name) => {
      if (value === false) return;
      throw new SessionOptionsError(name, `must be False: koa-qsession does not send Partitioned (CHIPS) cookies (got ${describe(value)})`);
    },
  },
  /** Flask's cookie path when SESSION_COOKIE_PATH is unset (read in fromQuartConfig). */
  APPLICATION_ROOT: { map: () => {} },
  /** A redis:// URL (Quart's SESSION_URI) or a shared client (SESSION_REDIS); SESSION_REDIS wins. */
  SESSION_URI: {
    backend: 'redis',
    map: (value, draft, name) => {
      const url = redisTarget(value, name);
      if (typeof url !== 'string') throw new SessionOptionsError(name, `must be a redis:// or rediss:// URL (got ${describe(value)})`);
      if (draft.source.get('redis') !== 'SESSION_REDIS') option('redis')(url, draft, name);
    },
  },
  /** A connected node-redis client or a URL; a Python client object gets an error saying which. */
  SESSION_REDIS: { backend: 'redis', map: (value, draft, name) => option('redis')(redisTarget(value, name), draft, name) },
  SESSION_MEMCACHED: { backend: 'memcached', map: (value, draft, name) => option('memcached')(memcachedTarget(value, name), draft, name) },
  /** Quart-Session's aiomcache address when SESSION_MEMCACHED is unset (read in fromQuartConfig). */
  SESSION_MEMCACHED_HOST: { backend: 'memcached', map: nothing },
  SESSION_MEMCACHED_PORT: { backend: 'memcached', map: nothing },
  SESSION_FILE_DIR: { backend: 'filesystem', map: (value, draft, name) => option('directory')(fileDirectory(value, name), draft, name) },
  /** cachelib's FileSystemCache threshold: the most files before it prunes, as `maxEntries`. */
  SESSION_FILE_THRESHOLD: {
    backend: 'filesystem',
    map: (value, draft, name) => {
      if (!Number.isSafeInteger(value) || (value as number) < 1) throw new SessionOptionsError(name, `must be a positive whole number (got ${describe(value)})`);
      draft.options.filesystem = { ...draft.options.filesystem, maxEntries: value as number };
      draft.source.set('filesystem.maxEntries', name);
    },
  },
  SESSION_FILE_MODE: { backend: 'filesystem', ignored: 'session files are always created 0600 (owner only; 384 is that mode, the default)' },
  // Quart-Session 3.0 reads SESSION_PROTECTION / SESSION_REVERSE_PROXY; 1.x and 2.x the HIJACK_
  // names. Read after the loop: the 3.0 name wins when both are set.
  SESSION_PROTECTION: { map: () => {} },
  SESSION_HIJACK_PROTECTION: { map: () => {} },
  SESSION_REVERSE_PROXY: { map: () => {} },
  SESSION_HIJACK_REVERSE_PROXY: { map: () => {} },
  /** Read after the loop, together with SECRET_KEY (see fromQuartConfig). */
  SESSION_USE_SIGNER: {
    map: (value, _draft, name) => {
      if (typeof value !== 'boolean') throw new SessionOptionsError(name, `must be True or False (got ${describe(value)})`);
    },
  },
  SECRET_KEY: { map: () => {} },
  SECRET_KEY_FALLBACKS: { map: () => {} },
  /** Seconds, as Quart / Flask take it (a timedelta's total_seconds()). */
  PERMANENT_SESSION_LIFETIME: {
    map: (value, draft, name) => {
      const ms = typeof value === 'number' ? Math.round(value * 1000) : NaN;
      if (!Number.isSafeInteger(ms) || ms < 1) {
        throw new SessionOptionsError(name, `must be a positive number of seconds (a timedelta's total_seconds()) (got ${describe(value)})`);
      }
      draft.options.lifetime = ms;
      draft.source.set('lifetime', name);
    },
  },
  /** Flask-Session 0.8: `secrets.token_urlsafe(SESSION_ID_LENGTH)`. 32 bytes is koa-qsession's own id shape. */
  SESSION_ID_LENGTH: {
    map: (value, draft, name) => {
      if (value !== 32) {
        throw new SessionOptionsError(name, `must be 32 (token_urlsafe(32), the id shape koa-qsession reads); ids of other lengths would never reach the store (got ${describe(value)})`);
      }
      draft.options.idFormat = 'base64url';
    },
  },
  SESSION_SERIALIZATION_FORMAT: ignored('koa-qsession reads and writes tagged JSON only; a Flask-Session app shares the store once it uses a tagged-JSON serializer (docs/python-interop-sharing.md), and its msgpack / json entries are left alone (decode-error)'),
  SESSION_CLEANUP_N_REQUESTS: ignored('for stores without expiry (SQL); every koa-qsession store expires sessions itself'),
  SESSION_CACHELIB: ignored(NO_BACKEND),
  SESSION_MONGODB: ignored(NO_BACKEND),
  SESSION_MONGODB_DB: ignored(NO_BACKEND),
  SESSION_MONGODB_COLLECT: ignored(NO_BACKEND),
  SESSION_MONGODB_URI: ignored(NO_BACKEND),
  SESSION_MONGODB_COLLECTION: ignored(NO_BACKEND),
  SESSION_MONGODB_CLIENT_KWARGS: ignored(NO_BACKEND),
  SESSION_MONGODB_SET_CALLBACK: ignored(NO_BACKEND),
  SESSION_SQLALCHEMY: ignored(NO_BACKEND),
  SESSION_SQLALCHEMY_TABLE: ignored(NO_BACKEND),
  SESSION_SQLALCHEMY_SEQUENCE: ignored(NO_BACKEND),
  SESSION_SQLALCHEMY_SCHEMA: ignored(NO_BACKEND),
  SESSION_SQLALCHEMY_BIND_KEY: ignored(NO_BACKEND),
  SESSION_DYNAMODB: ignored(NO_BACKEND),
  SESSION_DYNAMODB_TABLE: ignored(NO_BACKEND),
  SESSION_DYNAMODB_TABLE_EXISTS: ignored(NO_BACKEND),
  SESSION_POSTGRESQL: ignored(NO_BACKEND),
  SESSION_POSTGRESQL_TABLE: ignored(NO_BACKEND),
  SESSION_POSTGRESQL_SCHEMA: ignored(NO_BACKEND),
};

/** Keys that mark a Flask-Session 0.7+ config (no `_addr`, token_urlsafe ids) rather than Quart-Session's. */
const FLASK_SESSION_ONLY = ['SESSION_ID_LENGTH', 'SESSION_SERIALIZATION_FORMAT'];

/**
 * Maps a Quart-Session / Flask-Session config onto `qsession()` options, for apps migrating from
 * Python or sharing a store with one: `qsession(fromQuartConfig(config))`. It takes the dicts the
 * real libraries build as they are (Quart-Session 3.0's `Session(app)`, Flask's and Quart's
 * `app.config`, Flask-Session 0.3.2 and 0.8), which carry the defaults of every backend.
 *
 * - `null` (Python's `None`) means "not set": the option keeps its default.
 * - SESSION_TYPE selects the store; the settings of other stores (a redis config's
 *   SESSION_FILE_DIR default, say) are ignored, and `NODE_DEBUG=koa-qsession` lists them.
 *   Without SESSION_TYPE (a plain Flask / Quart config) no store setting is read: choose the store in
 *   qsession()'s options. SESSION_TYPE "null" is an error (see NULL_TYPE).
 * - A `SESSION_*` key no version of Quart-Session (3.0), Flask (3.1) or Flask-Session (0.8) defines
 *   is an error, so a typo does not pass unnoticed; keys of backends koa-qsession has no store for
 *   are accepted and ignored (docs/python-interop-config.md lists every key).
 * - Errors name the Python key (`PERMANENT_SESSION_LIFETIME`), not the option it became; a Python
 *   client object in SESSION_REDIS / SESSION_MEMCACHED gets one that says what to pass instead.
 * - Nothing is written anywhere: a folder is used only when SESSION_TYPE is "filesystem", and then
 *   the absolute SESSION_FILE_DIR the config names.
 * - New ids are UUIDs like Quart-Session's (`idFormat: 'uuid'`), or base64url for a Flask-Session
 *   0.8 config; ids of either shape are read whatever the format.
 * - `quartPinning` records how a Quart-Session app fills `_addr` (it writes one into every new
 *   session), so pinning compares only what both apps pin by the same rule (docs/python-interop-pinning.md).
 */
export function fromQuartConfig(config: QuartSessionConfig): QSessionOptions {
  if (config === null || typeof config !== 'object') throw new SessionOptionsError('config', 'must be an object (a Quart / Flask config as a dict)');
  const draft: Draft = { options: {}, cookie: {}, source: new Map() };
  const { options, cookie } = draft;
  // The store first: it decides which backend keys are read at all.
  const store = isSet(config.SESSION_TYPE) ? storeType(config.SESSION_TYPE, 'SESSION_TYPE') : undefined;
  for (const [name, value] of Object.entries(config)) {
    const key = Object.hasOwn(QUART_KEYS, name) ? QUART_KEYS[name] : undefined;
    if (key === undefined) {
      if (name.startsWith('SESSION_')) throw new SessionOptionsError(name, 'is not a setting of Quart-Session 3.0, Flask 3.1 or Flask-Session 0.8');
      continue;
    }
    if (value === null || value === undefined) continue;
    if (key.backend !== undefined && key.backend !== store) {
      debug('fromQuartConfig: ignored %s, a setting of the %s store (SESSION_TYPE is %s)', name, key.backend, store === undefined ? 'not set' : JSON.stringify(config.SESSION_TYPE));
      continue;
    }
    if ('ignored' in key) {
      debug('fromQuartConfig: ignored %s: %s', name, key.ignored);
      continue;
    }
    key.map(value, draft, name);
  }
  // Flask's rule: no SESSION_COOKIE_PATH means the application root.
  if (cookie.path === undefined && typeof config.APPLICATION_ROOT === 'string' && config.APPLICATION_ROOT !== '') {
    cookieField('path')(config.APPLICATION_ROOT, draft, 'APPLICATION_ROOT');
  }
  if (store === 'memcached' && options.memcached === undefined && (isSet(config.SESSION_MEMCACHED_HOST) || isSet(config.SESSION_MEMCACHED_PORT))) {
    // aiomcache's defaults, which Quart-Session passes on for an unset one.
    const host = isSet(config.SESSION_MEMCACHED_HOST) ? config.SESSION_MEMCACHED_HOST : '127.0.0.1';
    const port = isSet(config.SESSION_MEMCACHED_PORT) ? config.SESSION_MEMCACHED_PORT : 11211;
    if (!Number.isSafeInteger(Number(port)) || Number(port) < 1 || Number(port) > 65535 || String(port).trim() === '') {
      throw new SessionOptionsError('SESSION_MEMCACHED_PORT', `must be a port number (got ${describe(port)})`);
    }
    if (typeof host !== 'string' || !/^[A-Za-z0-9.\-_]+$|^\[?[0-9A-Fa-f:.]+\]?$/.test(host)) {
      throw new SessionOptionsError('SESSION_MEMCACHED_HOST', `must be a host name or address (got ${describe(host)})`);
    }
    const address = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    option('memcached')(memcachedTarget(`${address}:${Number(port)}`, 'SESSION_MEMCACHED_HOST'), draft, 'SESSION_MEMCACHED_HOST');
  }
  if (store === 'filesystem' && options.directory === undefined) {
    throw new SessionOptionsError('SESSION_FILE_DIR', 'must be set (an absolute path) when SESSION_TYPE is "filesystem"');
  }
  const protection = pick(config, 'SESSION_PROTECTION', 'SESSION_HIJACK_PROTECTION');
  if (protection) option('hijackProtection')(protection.value, draft, protection.name);
  const proxyMode = pick(config, 'SESSION_REVERSE_PROXY', 'SESSION_HIJACK_REVERSE_PROXY');
  if (proxyMode) option('reverseProxy')(proxyMode.value, draft, proxyMode.name);
  if (Object.keys(cookie).length > 0) options.cookie = cookie;
  if (config.SESSION_USE_SIGNER === true) {
    options.keys = signingKeys(config);
    draft.source.set('keys', 'SECRET_KEY');
  }
  const flaskSession = FLASK_SESSION_ONLY.some((name) => isSet(config[name]));
  options.idFormat ??= flaskSession ? 'base64url' : 'uuid';
  // Quart-Session writes `_addr` into every new session, pinning on or off: by its proxy setting.
  if (!flaskSession) options.quartPinning = proxyMode?.value === true ? 'forwarded-for' : 'socket';
  checkWithPythonNames(draft);
  return options;
}

/** SESSION_TYPE -> the store; "null" and backends koa-qsession has no store for are errors. */
function storeType(value: unknown, name: string): BuiltinStoreType {
  const type = typeof value === 'string' ? value.toLowerCase() : value;
  if (type === 'null') throw new SessionOptionsError(name, NULL_TYPE);
  if (typeof type !== 'string' || !Object.hasOwn(STORE_TYPES, type)) {
    throw new SessionOptionsError(name, `must be "redis", "redis+trio", "memcached" or "filesystem" (got ${describe(value)}); for another backend pass your own store as \`store\``);
  }
  return STORE_TYPES[type]!;
}

/** Runs the options' own checks now, so a bad value is reported under the Python key it came from. */
function checkWithPythonNames(draft: Draft): void {
  try {
    resolveOptions(draft.options);
    storeTypeOf(draft.options);
  } catch (error) {
    if (!(error instanceof SessionOptionsError)) throw error;
    const name = error.option.startsWith('keys[')
      ? (error.option === 'keys[0]' ? 'SECRET_KEY' : 'SECRET_KEY_FALLBACKS')
      : draft.source.get(error.option);
    if (name === undefined) throw error;
    const rule = error.message.slice(`koa-qsession: option "${error.option}" `.length);
    throw new SessionOptionsError(name, rule);
  }
}

/**
 * SESSION_USE_SIGNER signs with SECRET_KEY; Flask 3's SECRET_KEY_FALLBACKS become the older keys
 * that still verify (rotation). The signature format is koa-qsession's own (HMAC-SHA256), so signed
 * cookies are not interchangeable with a Quart app's.
 */
function signingKeys(config: QuartSessionConfig): QSessionOptions['keys'] {
  const secret = config.SECRET_KEY;
  if (typeof secret !== 'string' && !(secret instanceof Uint8Array)) {
    throw new SessionOptionsError('SECRET_KEY', 'must be set (a string or bytes) when SESSION_USE_SIGNER is true');
  }
  const fallbacks = config.SECRET_KEY_FALLBACKS ?? [];
  if (!Array.isArray(fallbacks)) throw new SessionOptionsError('SECRET_KEY_FALLBACKS', 'must be a list of keys');
  return [secret, ...(fallbacks as (string | Uint8Array)[])];
}

/** The first of `names` set (not None) in the config. */
function pick(config: QuartSessionConfig, ...names: string[]): { name: string; value: unknown } | undefined {
  const name = names.find((candidate) => isSet(config[candidate]));
  return name === undefined ? undefined : { name, value: config[name] };
}

function isSet(value: unknown): boolean {
  return value !== null && value !== undefined;
}
