// The contenders (servers in bench/contenders/) and the targets the report checks (issue 22's, and
// issue 21's for the hot session and the page). `routes` limits what is measured (default: every
// route); `sessionless`: keeps no session (no pools made); `redis` / `memcached`: count the store's
// commands; `optional`: measured only when BENCH_CONTENDERS names it.
export const CONTENDERS = [
  { id: 'bare', label: 'bare Koa (no sessions)', file: 'bare.mjs', routes: ['anon', 'page'], sessionless: true },
  { id: 'floor', label: 'floor: Koa + raw node-redis', file: 'floor.mjs', redis: true },
  { id: 'koa-session', label: 'koa-session 7, signed (default) + Redis', file: 'koa-session.mjs', redis: true },
  { id: 'koa-session-unsigned', label: 'koa-session 7, unsigned + Redis', file: 'koa-session.mjs', env: { BENCH_KOA_SESSION_SIGNED: '0' }, redis: true },
  { id: 'fastify-session', label: '@fastify/session + connect-redis', file: 'fastify-session.mjs', redis: true },
  { id: 'express-session', label: 'express-session + connect-redis', file: 'express-session.mjs', redis: true },
  { id: 'qs-memory', label: 'koa-qsession, memory', file: 'qsession.mjs', env: { BENCH_STORE: 'memory' } },
  { id: 'qs-redis', label: 'koa-qsession, Redis', file: 'qsession.mjs', env: { BENCH_STORE: 'redis' }, redis: true },
  { id: 'qs-memcached', label: 'koa-qsession, memcached', file: 'qsession.mjs', env: { BENCH_STORE: 'memcached' }, memcached: true },
  { id: 'qs-filesystem', label: 'koa-qsession, filesystem', file: 'qsession.mjs', env: { BENCH_STORE: 'filesystem' }, filesystem: true },
  // Plain JSON instead of the Quart-compatible tagged JSON: what the tags cost.
  { id: 'qs-redis-json', label: "koa-qsession, Redis, serializer 'json'", file: 'qsession.mjs', env: { BENCH_STORE: 'redis', BENCH_SERIALIZER: 'json' }, redis: true, optional: true },
  // Option `lock`: writers ordered across processes by a lease in Redis. What the lease costs.
  { id: 'qs-redis-lock', label: 'koa-qsession, Redis, `lock: true`', file: 'qsession.mjs', env: { BENCH_STORE: 'redis', BENCH_LOCK: '1' }, redis: true, optional: true },
];

/** The references every case's ratios are taken against (when measured). */
export const FLOOR = 'floor';
export const UNSIGNED = 'koa-session-unsigned';
export const BARE = 'bare';

/** The contenders a run measures: those BENCH_CONTENDERS names, else every non-optional one. */
export function selected(only) {
  if (!only) return CONTENDERS.filter((c) => !c.optional);
  const unknown = only.filter((id) => !CONTENDERS.some((c) => c.id === id));
  if (unknown.length > 0) throw new Error(`BENCH_CONTENDERS: unknown ${unknown.join(', ')} (ids: ${CONTENDERS.map((c) => c.id).join(', ')})`);
  return CONTENDERS.filter((c) => only.includes(c.id));
}

/**
 * The targets. `ratio`: median over rounds of a's req/s / b's req/s in the same round, at least
 * `min` on every payload; `pageRatio`: median over rounds of a's page p50 / b's, at most `max`;
 * `cpuGrowth`: a's CPU per request on the large payload / on the small one, at most `max`;
 * `noFailures`: a answered every request of every route 2xx; `noLostUpdates`: every increment a
 * answered 2xx on `hot` is in the counter afterwards.
 */
export const TARGETS = [
  { kind: 'ratio', a: 'qs-redis', b: FLOOR, route: 'read', min: 0.85 },
  { kind: 'ratio', a: 'qs-redis', b: UNSIGNED, route: 'read', min: 1.05 },
  { kind: 'ratio', a: 'qs-redis', b: FLOOR, route: 'write', min: 0.8 },
  { kind: 'ratio', a: 'qs-redis', b: UNSIGNED, route: 'write', min: 1.05 },
  { kind: 'ratio', a: 'qs-redis', b: BARE, route: 'anon', min: 0.95 },
  { kind: 'cpuGrowth', a: 'qs-redis', route: 'read', max: 1.2 },
  { kind: 'noFailures', a: 'qs-redis' },
  { kind: 'noLostUpdates', a: 'qs-redis', route: 'hot' },
  { kind: 'ratio', a: 'qs-redis', b: 'koa-session', route: 'hot', min: 1 },
  { kind: 'pageRatio', a: 'qs-redis', b: BARE, max: 1.5 },
];
