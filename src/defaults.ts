/**
 * Every default of koa-qsession, the stores' sub-options included, in one table. The options
 * resolver and the stores read their defaults from here and nowhere else; the README's options
 * table and docs/stores.md quote them.
 */
const DAY = 24 * 60 * 60 * 1000;

export const DEFAULTS = {
  type: 'memory',
  keyPrefix: 'session:',
  permanent: true,
  /** Quart's PERMANENT_SESSION_LIFETIME: 31 days. */
  lifetime: 31 * DAY,
  rolling: false,
  explicit: false,
  staticFile: false,
  idFormat: 'base64url',
  serializer: 'tagged-json',
  storeTimeout: 1000,
  turnWait: 1000,
  /** `turnWait` when `lock` is on: the writers of every process wait in one line, so it is longer. */
  lockedTurnWait: 5000,
  onConflict: 'fail',
  /** How long a writer's store lease (option `lock`) lives if its holder never releases it (a crashed process). */
  lockTtl: 10_000,
  onStoreError: 'fail',
  maxSize: 1024 * 1024,
  hijackProtection: false,
  reverseProxy: false,
  proxyHops: 1,
  pinning: 'exact',
  cookie: { name: 'session', path: '/', httpOnly: true, secure: false, sameSite: 'lax', partitioned: false },
  memory: { maxEntries: 100_000 },
  redis: { url: 'redis://localhost:6379' },
  memcached: { servers: '127.0.0.1:11211', itemLimit: 1024 * 1024, timeout: 500 },
  filesystem: { maxEntries: 100_000, sweepInterval: 60_000, lockStaleMs: 5000 },
} as const;
