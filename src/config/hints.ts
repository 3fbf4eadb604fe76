/**
 * "Did you mean": the option names of koa-session, express-session (and their stores) that people
 * bring along, each with what it is called here. Used when an option is not one of ours; the full
 * table is docs/coming-from-koa-session.md.
 */
export const OPTION_HINTS: Readonly<Record<string, string>> = {
  key: 'the cookie name is `cookie: { name }` here (koa-session\'s `key`)',
  name: 'the cookie name is `cookie: { name }` here (express-session\'s `name`)',
  secret: 'cookies are signed with `keys: [secret]` here (express-session\'s `secret`; each key at least 16 bytes)',
  signed: 'cookies are signed when `keys: [...]` is given (koa-session\'s `signed` with app.keys; app.keys are not read)',
  genid: 'ids are made here; `idFormat: "base64url" | "uuid"` picks their shape (ids of any other shape never reach the store)',
  renew: '`rolling: true` refreshes the TTL and cookie on every request (koa-session\'s `renew` refreshes near expiry only)',
  resave: 'an unchanged session is not written back (concurrent changes are merged); `session.save()` forces a write',
  saveUninitialized: 'a new session is stored only once it holds data (as express-session\'s `saveUninitialized: false`)',
  unset: '`ctx.session = null` or `session.destroy()` deletes the session',
  proxy: 'the Secure flag follows `ctx.secure`: set `app.proxy = true` behind a TLS-terminating proxy, with `cookie: { secure: "auto" }`',
  autoCommit: 'the session is always committed before the response is sent; `explicit: true` saves only after `session.dirty()` / `session.save()`',
  encode: 'the stored format is `serializer` here (`"tagged-json"`, `"json"`, `"v8"` or your own `{ name, dumps, loads }`)',
  decode: 'the stored format is `serializer` here (`"tagged-json"`, `"json"`, `"v8"` or your own `{ name, dumps, loads }`)',
  ttl: 'the idle lifetime is `lifetime` (ms) here',
  prefix: 'the store key prefix is `keyPrefix` here',
  expires: 'there is no fixed expiry date: `lifetime` is the idle lifetime (ms), `maxAge` the absolute one',
  overwrite: 'the session cookie always overwrites an earlier Set-Cookie of the same name',
  httpOnly: 'cookie attributes go under `cookie`: `cookie: { httpOnly }`',
  secure: 'cookie attributes go under `cookie`: `cookie: { secure }` (true, false or "auto")',
  sameSite: 'cookie attributes go under `cookie`: `cookie: { sameSite }`',
  path: 'cookie attributes go under `cookie`: `cookie: { path }`',
  domain: 'cookie attributes go under `cookie`: `cookie: { domain }`',
  partitioned: 'cookie attributes go under `cookie`: `cookie: { partitioned }`',
  priority: 'cookie attributes go under `cookie`: `cookie: { priority }`',
  valid: 'no per-request validation hook: `hijackProtection` pins a session to its client address',
  beforeSave: 'no save hook: change the session in your handler; it is saved before the response is sent',
  externalKey: 'the session id travels only in the session cookie',
  ContextStore: 'there is one session per request, reachable as `session` and `ctx.session`',
};

export const COOKIE_OPTION_HINTS: Readonly<Record<string, string>> = {
  maxAge: 'the cookie follows the session: `lifetime` (ms, top level) is its idle lifetime, `permanent: false` makes a ' +
    'browser-session cookie, and `session.cookie.maxAge = ms` sets one session\'s own',
  expires: 'there is no fixed expiry date: `lifetime` (ms, top level) is the idle lifetime, `maxAge` the absolute one',
  signed: 'cookies are signed when `keys: [...]` (top level) is given',
  overwrite: 'the session cookie always overwrites an earlier Set-Cookie of the same name',
  key: 'the cookie name is `cookie: { name }`',
};

/** For names we do not know at all: where koa-session's `maxAge` went, the usual first surprise. */
export const UNKNOWN_OPTION_NOTE =
  'see the options table in the README (coming from koa-session: its `maxAge` is `lifetime` here; our `maxAge` is the absolute lifetime)';
