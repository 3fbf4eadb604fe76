import { DEFAULTS } from '../defaults.js';
import { SessionOptionsError } from '../errors.js';
import { resolveSerializer } from '../serializers/index.js';
import { bool, check, describe, isFunction, onlyKnownKeys, OptionProblems, positiveInt } from '../validate.js';
import { resolveQuartPinning } from './quart-pinning.js';
import { COOKIE_OPTION_HINTS, OPTION_HINTS, UNKNOWN_OPTION_NOTE } from './hints.js';
import type { QSessionOptions, ResolvedCookieOptions, ResolvedOptions, SameSite, SessionCookieOptions, SigningKey } from './options.js';

/**
 * Every option `qsession()` takes. Typed against `QSessionOptions`, so adding an option to the
 * interface without listing it here (or the other way round) fails to compile.
 */
const OPTION_NAMES: { readonly [K in keyof Required<QSessionOptions>]: true } = {
  type: true, store: true, memory: true, redis: true, memcached: true, directory: true, filesystem: true, keyPrefix: true,
  permanent: true, lifetime: true, rolling: true, explicit: true, staticFile: true, isStatic: true, cookie: true, idFormat: true,
  serializer: true, storeTimeout: true, turnWait: true, onStoreError: true, maxSize: true, hijackProtection: true, reverseProxy: true,
  proxyHops: true, getClientIp: true, pinning: true, quartPinning: true, keys: true, maxAge: true, userKey: true,
  onConflict: true, lock: true, isWriter: true,
};
export const KNOWN_OPTIONS: readonly string[] = Object.keys(OPTION_NAMES);
const COOKIE_OPTION_NAMES: { readonly [K in keyof Required<SessionCookieOptions>]: true } = {
  name: true, path: true, domain: true, httpOnly: true, secure: true, sameSite: true, partitioned: true, priority: true,
};
export const KNOWN_COOKIE_OPTIONS: readonly string[] = Object.keys(COOKIE_OPTION_NAMES);

/** Browsers ignore a Set-Cookie line over 4096 bytes (RFC 6265 6.1 minimum); we never send one. */
export const MAX_COOKIE_BYTES = 4096;
/** Longest cookie value we write: a 64-character id, a dot and a 43-character signature. */
const MAX_VALUE_LENGTH = 64 + 1 + 43;
/** `; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Strict; Path=; Domain=`, rounded up. */
const ATTRIBUTE_OVERHEAD = 128;
// RFC 6265 cookie-name is an HTTP token.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const KEY_PREFIX = /^[A-Za-z0-9_:.-]{0,100}$/;

export function resolveOptions(options: QSessionOptions = {}): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw new SessionOptionsError('options', 'must be an object');
  // Every bad option of the config in one SessionOptionsError (see OptionProblems).
  const p = new OptionProblems();
  p.take(() => onlyKnownKeys('', options, KNOWN_OPTIONS, 'a koa-qsession option', OPTION_HINTS, UNKNOWN_OPTION_NOTE));
  const cookie = resolveCookie(options.cookie ?? {}, p);
  const resolved: ResolvedOptions = {
    keyPrefix: p.take(() => check('keyPrefix', options.keyPrefix, DEFAULTS.keyPrefix, (v) => typeof v === 'string' && KEY_PREFIX.test(v),
      'must be at most 100 characters of A-Z a-z 0-9 _ : . -')),
    permanent: p.take(() => bool('permanent', options.permanent, DEFAULTS.permanent)),
    lifetime: p.take(() => positiveInt('lifetime', options.lifetime, DEFAULTS.lifetime)),
    rolling: p.take(() => bool('rolling', options.rolling, DEFAULTS.rolling)),
    explicit: p.take(() => bool('explicit', options.explicit, DEFAULTS.explicit)),
    staticFile: p.take(() => bool('staticFile', options.staticFile, DEFAULTS.staticFile)),
    isStatic: p.take(() => check('isStatic', options.isStatic, undefined, isFunction, 'must be a function')),
    cookie,
    serializer: p.take(() => resolveSerializer(options.serializer)),
    idFormat: p.take(() => check('idFormat', options.idFormat, DEFAULTS.idFormat, (v) => v === 'base64url' || v === 'uuid',
      'must be "base64url" or "uuid"')),
    storeTimeout: p.take(() => positiveInt('storeTimeout', options.storeTimeout, DEFAULTS.storeTimeout)),
    // With `lock` the writers of every process share one line: a longer default wait (see DEFAULTS).
    turnWait: p.take(() => check('turnWait', options.turnWait, options.lock === undefined || options.lock === false ? DEFAULTS.turnWait : DEFAULTS.lockedTurnWait, (v) => Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= 60_000,
      'must be a whole number of ms from 0 (writers do not wait for each other) to 60000')),
    onConflict: p.take(() => check('onConflict', options.onConflict, DEFAULTS.onConflict, (v) => v === 'fail' || v === 'overwrite', 'must be "fail" or "overwrite"')),
    lock: p.take(() => resolveLock(options.lock)),
    isWriter: p.take(() => check('isWriter', options.isWriter, undefined, isFunction, 'must be a function')),
    onStoreError: p.take(() => check('onStoreError', options.onStoreError, DEFAULTS.onStoreError,
      (v) => v === 'fail' || v === 'anonymous' || typeof v === 'function', 'must be "fail", "anonymous" or a function')),
    maxSize: p.take(() => positiveInt('maxSize', options.maxSize, DEFAULTS.maxSize)),
    hijackProtection: p.take(() => bool('hijackProtection', options.hijackProtection, DEFAULTS.hijackProtection)),
    client: {
      reverseProxy: p.take(() => bool('reverseProxy', options.reverseProxy, DEFAULTS.reverseProxy)),
      proxyHops: p.take(() => check('proxyHops', options.proxyHops, DEFAULTS.proxyHops, (v) => Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= 32,
        'must be a whole number from 1 to 32')),
      getClientIp: p.take(() => check('getClientIp', options.getClientIp, undefined, isFunction, 'must be a function')),
    },
    pinning: p.take(() => check('pinning', options.pinning, DEFAULTS.pinning, (v) => v === 'exact' || v === 'subnet', 'must be "exact" or "subnet"')),
    quartPinning: p.take(() => resolveQuartPinning(options)),
    keys: resolveKeys(options.keys, p),
    maxAge: p.take(() => check('maxAge', options.maxAge, undefined, (v) => Number.isSafeInteger(v) && (v as number) > 0,
      (options.maxAge as unknown) === 'session'
        ? "must be a positive whole number of ms: koa-session's maxAge 'session' (a browser-session cookie) is `permanent: false` here"
        : 'must be a positive whole number of ms (the absolute lifetime; the idle lifetime is `lifetime`)')),
    userKey: p.take(() => check('userKey', options.userKey, undefined, (v) => typeof v === 'string' && v.length > 0 && v.length <= 200,
      'must be a non-empty data key name')),
  };
  // `lock` orders writers by making them wait for its lease; with no wait at all it would order nothing.
  if (resolved.lock !== undefined && resolved.turnWait === 0) {
    p.add('turnWait', 'must be above 0 with `lock`: the lease orders writers by making them wait for it (leave turnWait out for its default, 5000 ms)');
  }
  p.throwIfAny();
  warnAboutMaxAge(options);
  warnAboutSeconds(resolved);
  return resolved;
}

/**
 * koa-session's `maxAge` is an idle lifetime (refreshed on every save); ours is absolute and ends an
 * active session too. Given alone it is ambiguous: say so once per middleware, and how to be clear.
 */
function warnAboutMaxAge(options: QSessionOptions): void {
  if (options.maxAge === undefined || options.lifetime !== undefined) return;
  process.emitWarning(
    'koa-qsession: `maxAge` is the absolute lifetime of a session (from its creation, however active). ' +
      "koa-session's `maxAge` (idle lifetime, refreshed on each save) is `lifetime` here. " +
      'Give `lifetime` too to say which you mean (the default is 31 days).',
    { code: 'QSESSION_MAXAGE_MEANING' },
  );
}

/** Below this, a `lifetime` or `maxAge` was most likely meant in seconds (Quart's and express-session's `ttl` are). */
const SECONDS_SUSPECT_MS = 60_000;

/**
 * `lifetime: 3600` is 3.6 seconds here: accepted (tests and demos use short lifetimes on purpose),
 * but said at start-up, since every session of an app configured so ends almost at once.
 */
function warnAboutSeconds(resolved: ResolvedOptions): void {
  for (const [name, ms] of [['lifetime', resolved.lifetime], ['maxAge', resolved.maxAge]] as const) {
    if (ms === undefined || ms >= SECONDS_SUSPECT_MS) continue;
    process.emitWarning(
      `koa-qsession: \`${name}: ${ms}\` is ${ms / 1000} seconds: ${name} is in milliseconds, not seconds ` +
        `(${ms} seconds would be \`${name}: ${ms * 1000}\`). A ${name} under a minute ends sessions almost at once.`,
      { code: 'QSESSION_SHORT_LIFETIME' },
    );
  }
}

/** `lock`: false, true (the defaults) or `{ ttl }`, the lease's lifetime in ms. */
function resolveLock(lock: QSessionOptions['lock']): ResolvedOptions['lock'] {
  if (lock === undefined || lock === false) return undefined;
  if (lock === true) return { ttl: DEFAULTS.lockTtl };
  if (lock === null || typeof lock !== 'object') throw new SessionOptionsError('lock', `must be true, false or { ttl } (got ${describe(lock)})`);
  onlyKnownKeys('lock', lock, ['ttl'], 'a lock option', {});
  return { ttl: check('lock.ttl', lock.ttl, DEFAULTS.lockTtl, (v) => Number.isSafeInteger(v) && (v as number) >= 100 && (v as number) <= 600_000, 'must be a whole number of ms from 100 to 600000') };
}

/** Signing keys as bytes. Short keys are refused: the key is all that stands between a client and forged cookies. */
function resolveKeys(keys: readonly SigningKey[] | undefined, p: OptionProblems): readonly Uint8Array[] | undefined {
  if (keys === undefined) return undefined;
  if (!Array.isArray(keys) || keys.length === 0) return p.take(() => { throw new SessionOptionsError('keys', 'must be a non-empty array of strings or Buffers'); });
  return keys.map((key: unknown, index) => p.take(() => {
    const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key instanceof Uint8Array ? Buffer.from(key) : undefined;
    if (bytes === undefined) throw new SessionOptionsError(`keys[${index}]`, `must be a string or a Buffer (got ${describe(key)})`);
    if (bytes.length < 16) throw new SessionOptionsError(`keys[${index}]`, `must be at least 16 bytes (got ${bytes.length})`);
    return bytes;
  }));
}

function resolveCookie(cookie: SessionCookieOptions, p: OptionProblems): ResolvedCookieOptions {
  if (cookie === null || typeof cookie !== 'object') return p.take(() => { throw new SessionOptionsError('cookie', 'must be an object'); });
  const before = p.count;
  p.take(() => onlyKnownKeys('cookie', cookie, KNOWN_COOKIE_OPTIONS, 'a cookie option', COOKIE_OPTION_HINTS));
  const resolved: ResolvedCookieOptions = {
    name: p.take(() => check('cookie.name', cookie.name, DEFAULTS.cookie.name, (v) => typeof v === 'string' && TOKEN.test(v), 'must be a cookie name (an HTTP token)')),
    path: p.take(() => check('cookie.path', cookie.path, DEFAULTS.cookie.path, (v) => typeof v === 'string' && /^\/[\x20-\x3a\x3c-\x7e]*$/.test(v), 'must start with / and hold no ";" or control characters')),
    domain: p.take(() => check('cookie.domain', cookie.domain, undefined,
      (v) => typeof v === 'string' && /^\.?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(v), 'must be a domain name')),
    httpOnly: p.take(() => bool('cookie.httpOnly', cookie.httpOnly, DEFAULTS.cookie.httpOnly)),
    secure: p.take(() => check('cookie.secure', cookie.secure, DEFAULTS.cookie.secure as boolean | 'auto', (v) => typeof v === 'boolean' || v === 'auto', 'must be true, false or "auto"')),
    sameSite: p.take(() => check('cookie.sameSite', cookie.sameSite, DEFAULTS.cookie.sameSite as SameSite, (v) => v === 'lax' || v === 'strict' || v === 'none' || v === false,
      'must be "lax", "strict", "none" or false')),
    partitioned: p.take(() => bool('cookie.partitioned', cookie.partitioned, DEFAULTS.cookie.partitioned)),
    priority: p.take(() => check('cookie.priority', cookie.priority, undefined, (v) => v === 'low' || v === 'medium' || v === 'high', 'must be "low", "medium" or "high"')),
  };
  // The rules between attributes, once each attribute is valid on its own (they read the resolved values).
  if (p.count === before) p.take(() => checkCookieCombination(resolved));
  return resolved;
}

function checkCookieCombination(resolved: ResolvedCookieOptions): void {
  if (resolved.partitioned && resolved.secure === false) {
    throw new SessionOptionsError('cookie.partitioned', 'requires cookie.secure (true, or "auto" behind HTTPS): browsers drop Partitioned cookies that are not Secure');
  }
  if (resolved.sameSite === 'none' && resolved.secure === false) {
    throw new SessionOptionsError('cookie.sameSite', '"none" requires cookie.secure (browsers drop SameSite=None cookies that are not Secure)');
  }
  checkCookiePrefix(resolved);
  const longest = resolved.name.length + 1 + MAX_VALUE_LENGTH + resolved.path.length + (resolved.domain?.length ?? 0) + ATTRIBUTE_OVERHEAD;
  if (longest > MAX_COOKIE_BYTES) {
    throw new SessionOptionsError('cookie', `name, path and domain make a cookie of up to ${longest} bytes, over the ${MAX_COOKIE_BYTES} browsers keep`);
  }
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
