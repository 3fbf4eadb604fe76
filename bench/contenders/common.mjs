// Shared by the contender servers: each is one process, listening on 127.0.0.1 (port from PORT, 0:
// any free port), with the same routes:
//   /setup?size=small|large&n=N  creates a session holding sessionData(size, N) (payload.mjs)
//   /anon        no cookie, the session is not touched
//   GET  /read   reads the session's `user` object (one top-level key) and answers its id
//   POST /write  reads `user`, increments the counter, answers both (`hot` is /write on ONE session)
//   GET  /page   awaits PAGE_WAIT_MS (a database call), then reads `user` like /read: the bench
//                fires 30 of them at once on one session (a page's parallel requests)
//   /check       answers describe(...) (payload.mjs): the whole session is there, counter last
// It tells the orchestrator on stdout: {"ready": port} or {"skip": "why"}.
export { describe, sessionData } from './payload.mjs';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? '';
export const MEMCACHED = process.env.BENCH_MEMCACHED ?? '';
/** One lifetime for every contender: 31 days, koa-qsession's default. */
export const LIFETIME_MS = 31 * 24 * 60 * 60 * 1000;
export const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';
/** What a /page handler awaits before it reads the session, like a database call. */
export const PAGE_WAIT_MS = 5;
export { setTimeout as pause } from 'node:timers/promises';

export function ready(server) {
  const { port } = server.address();
  process.stdout.write(JSON.stringify({ ready: port }) + '\n');
  // The orchestrator asks for this process's CPU time around each measurement (over IPC, idle then).
  // and for its heap (the memory measurement runs it with --expose-gc).
  process.on('message', (message) => {
    if (message === 'cpu') process.send({ cpu: process.cpuUsage() });
    if (message === 'heap') {
      for (let i = 0; i < 3; i++) globalThis.gc?.();
      process.send({ heap: process.memoryUsage() });
    }
  });
  const stop = () => {
    process.disconnect?.();
    server.close(() => process.exit(0));
    server.closeAllConnections?.();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/** The `sessionData` arguments of a /setup request, from its query (`size`, `n`). */
export function setupArgs(query) {
  return [query.size ?? 'small', Number(query.n ?? 0)];
}

export function skip(reason) {
  process.stdout.write(JSON.stringify({ skip: reason }) + '\n');
  process.exit(0);
}

/** Koa and Express apps: an http server on loopback. */
export function listen(handler) {
  return new Promise((resolve) => {
    const server = handler.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => resolve(server));
  });
}
