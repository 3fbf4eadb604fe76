// Shared by the contender servers: each is one process, listening on 127.0.0.1 (port from PORT, 0:
// any free port), with the same routes: /setup (creates a session holding { counter: 0 }), /anon
// (no cookie, session untouched), /read (reads the counter), /write (increments it).
// It tells the orchestrator on stdout: {"ready": port} or {"skip": "why"}.
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? '';
export const MEMCACHED = process.env.BENCH_MEMCACHED ?? '';
/** One lifetime for every contender: 31 days, koa-qsession's default. */
export const LIFETIME_MS = 31 * 24 * 60 * 60 * 1000;
export const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';

export function ready(server) {
  const { port } = server.address();
  process.stdout.write(JSON.stringify({ ready: port }) + '\n');
  // The orchestrator asks for this process's CPU time around each measurement (over IPC, idle then).
  process.on('message', (message) => {
    if (message === 'cpu') process.send({ cpu: process.cpuUsage() });
  });
  const stop = () => {
    process.disconnect?.();
    server.close(() => process.exit(0));
    server.closeAllConnections?.();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
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
