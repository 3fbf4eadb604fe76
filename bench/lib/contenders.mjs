// The contenders (servers in bench/contenders/) and the targets of issue 13 the report checks.
// `routes` limits what is measured (default: every route); `redis` / `memcached`: count the
// store's commands; `optional`: measured only when BENCH_CONTENDERS names it.
export const CONTENDERS = [
  { id: 'bare', label: 'bare Koa (no sessions)', file: 'bare.mjs', routes: ['anon'] },
  { id: 'floor', label: 'floor: Koa + raw node-redis', file: 'floor.mjs', redis: true },
  { id: 'koa-session', label: 'koa-session 7 + Redis', file: 'koa-session.mjs', redis: true },
  { id: 'fastify-session', label: '@fastify/session + connect-redis', file: 'fastify-session.mjs', redis: true },
  { id: 'express-session', label: 'express-session + connect-redis', file: 'express-session.mjs', redis: true },
  { id: 'qs-memory', label: 'koa-qsession, memory', file: 'qsession.mjs', env: { BENCH_STORE: 'memory' } },
  { id: 'qs-redis', label: 'koa-qsession, Redis', file: 'qsession.mjs', env: { BENCH_STORE: 'redis' }, redis: true },
  { id: 'qs-memcached', label: 'koa-qsession, memcached', file: 'qsession.mjs', env: { BENCH_STORE: 'memcached' }, memcached: true },
  // Plain JSON instead of the Quart-compatible tagged JSON: what the tags cost.
  { id: 'qs-redis-json', label: "koa-qsession, Redis, serializer 'json'", file: 'qsession.mjs', env: { BENCH_STORE: 'redis', BENCH_SERIALIZER: 'json' }, redis: true, optional: true },
];

/** The contenders a run measures: those BENCH_CONTENDERS names, else every non-optional one. */
export function selected(only) {
  if (!only) return CONTENDERS.filter((c) => !c.optional);
  const unknown = only.filter((id) => !CONTENDERS.some((c) => c.id === id));
  if (unknown.length > 0) throw new Error(`BENCH_CONTENDERS: unknown ${unknown.join(', ')} (ids: ${CONTENDERS.map((c) => c.id).join(', ')})`);
  return CONTENDERS.filter((c) => only.includes(c.id));
}

/**
 * Issue 13's targets. `ratio`: median over rounds of a's req/s / b's req/s in the same round, at
 * least `min` on every payload; `noNon2xx`: a answered every request 2xx; `noLostUpdates`: every
 * increment a answered 2xx is in the counter afterwards; `cpuGrowth`: a's CPU per
 * request on the large payload / on the small one, at most `max`.
 */
export const TARGETS = [
  { kind: 'ratio', a: 'qs-redis', b: 'floor', route: 'read', min: 0.85 },
  { kind: 'ratio', a: 'qs-redis', b: 'floor', route: 'write', min: 0.8 },
  { kind: 'ratio', a: 'qs-redis', b: 'koa-session', route: 'read', min: 1 },
  { kind: 'ratio', a: 'qs-redis', b: 'koa-session', route: 'write', min: 1 },
  { kind: 'ratio', a: 'qs-redis', b: 'fastify-session', route: 'read', min: 1 },
  { kind: 'ratio', a: 'qs-redis', b: 'fastify-session', route: 'write', min: 1 },
  { kind: 'ratio', a: 'qs-redis', b: 'koa-session', route: 'hot', min: 1 },
  { kind: 'noNon2xx', a: 'qs-redis', route: 'hot' },
  { kind: 'noLostUpdates', a: 'qs-redis', route: 'hot' },
  { kind: 'ratio', a: 'qs-redis', b: 'bare', route: 'anon', min: 0.95 },
  { kind: 'cpuGrowth', a: 'qs-redis', route: 'read', max: 1.2 },
];
