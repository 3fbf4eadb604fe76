import { SessionOptionsError } from '../errors.js';
import type { QSessionOptions, SameSite, SessionCookieOptions } from './options.js';

/** A Quart / Flask style config object: `SESSION_*` keys (others are ignored). */
export type QuartSessionConfig = Record<string, unknown>;

type Mapper = (value: unknown, options: QSessionOptions, cookie: SessionCookieOptions) => void;

const direct = <K extends keyof QSessionOptions>(option: K): Mapper => (value, options) => {
  options[option] = value as QSessionOptions[K];
};
const cookieField = <K extends keyof SessionCookieOptions>(field: K): Mapper => (value, _options, cookie) => {
  cookie[field] = value as SessionCookieOptions[K];
};

/** Quart-Session's config names and their option; `resolveOptions` validates the values afterwards. */
const MAPPING: Record<string, Mapper> = {
  SESSION_TYPE: (value, options) => {
    options.type = (typeof value === 'string' ? value.toLowerCase() : value) as QSessionOptions['type'];
  },
  SESSION_KEY_PREFIX: direct('keyPrefix'),
  SESSION_PERMANENT: direct('permanent'),
  SESSION_EXPLICIT: direct('explicit'),
  SESSION_STATIC_FILE: direct('staticFile'),
  SESSION_REFRESH_EACH_REQUEST: direct('rolling'),
  SESSION_COOKIE_NAME: cookieField('name'),
  SESSION_COOKIE_DOMAIN: (value, _options, cookie) => {
    if (value !== null && value !== false) cookie.domain = value as string;
  },
  SESSION_COOKIE_PATH: cookieField('path'),
  SESSION_COOKIE_HTTPONLY: cookieField('httpOnly'),
  SESSION_COOKIE_SECURE: cookieField('secure'),
  SESSION_COOKIE_SAMESITE: (value, _options, cookie) => {
    cookie.sameSite = (value === null ? false : typeof value === 'string' ? value.toLowerCase() : value) as SameSite;
  },
  /** A redis:// URL (Quart's SESSION_URI) or a shared client (SESSION_REDIS); the client wins. */
  SESSION_URI: (value, options) => {
    options.redis ??= value as string;
  },
  SESSION_REDIS: direct('redis'),
  SESSION_MEMCACHED: direct('memcached'),
  /** Flask-Session's filesystem directory. */
  SESSION_FILE_DIR: direct('directory'),
  SESSION_HIJACK_PROTECTION: direct('hijackProtection'),
  SESSION_PROTECTION: direct('hijackProtection'),
  SESSION_HIJACK_REVERSE_PROXY: direct('reverseProxy'),
  SESSION_REVERSE_PROXY: direct('reverseProxy'),
  // Read after the loop, together with SECRET_KEY (see fromQuartConfig).
  SESSION_USE_SIGNER: () => {},
  /** Seconds, as Quart/Flask take it (a timedelta's total_seconds()). */
  PERMANENT_SESSION_LIFETIME: (value, options) => {
    options.lifetime = typeof value === 'number' ? Math.round(value * 1000) : (value as number);
  },
};

/**
 * Maps a Quart-Session / Flask-Session style config onto `qsession()` options, for people migrating:
 * `qsession(fromQuartConfig({ SESSION_TYPE: 'memory', SESSION_EXPLICIT: true }))`.
 * A `SESSION_*` key this package does not know is an error, so a typo does not pass unnoticed.
 */
export function fromQuartConfig(config: QuartSessionConfig): QSessionOptions {
  const options: QSessionOptions = {};
  const cookie: SessionCookieOptions = {};
  for (const [name, value] of Object.entries(config)) {
    const mapper = Object.hasOwn(MAPPING, name) ? MAPPING[name] : undefined;
    if (mapper) mapper(value, options, cookie);
    else if (name.startsWith('SESSION_')) throw new SessionOptionsError(name, 'is not a Quart-Session setting koa-qsession knows');
  }
  if (Object.keys(cookie).length > 0) options.cookie = cookie;
  if (config.SESSION_USE_SIGNER === true) options.keys = signingKeys(config);
  return options;
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
  const fallbacks = config.SECRET_KEY_FALLBACKS;
  if (fallbacks !== undefined && !Array.isArray(fallbacks)) throw new SessionOptionsError('SECRET_KEY_FALLBACKS', 'must be a list of keys');
  return [secret, ...((fallbacks ?? []) as (string | Uint8Array)[])];
}
