// koa-qsession (this repository's src/, bundled by bench/build.mjs), on the store named by
// BENCH_STORE: memory, redis, memcached or filesystem (BENCH_FS_DIR; BENCH_SERIALIZER: a serializer
// other than the default tagged JSON; BENCH_LOCK=1: option `lock`). Handlers use the context-local `session`, as the README does.
import Koa from 'koa';
import { LIFETIME_MS, MEMCACHED, PAGE_WAIT_MS, REDIS_URL, describe, listen, pause, ready, sessionData, setupArgs, skip } from './common.mjs';

const { qsession, session } = await import(process.env.BENCH_QSESSION_BUNDLE);
const store = process.env.BENCH_STORE ?? 'memory';
// BENCH_MAX_ENTRIES: the memory store's bound (its default, 100 000, unless the memory measurement needs more).
const memory = process.env.BENCH_MAX_ENTRIES ? { memory: { maxEntries: Number(process.env.BENCH_MAX_ENTRIES) } } : {};
const storeOptions = {
  memory,
  redis: { type: 'redis', redis: REDIS_URL },
  memcached: { type: 'memcached', memcached: MEMCACHED },
  filesystem: { type: 'filesystem', directory: process.env.BENCH_FS_DIR },
}[store];

let middleware;
try {
  const serializer = process.env.BENCH_SERIALIZER ? { serializer: process.env.BENCH_SERIALIZER } : {};
  const lock = process.env.BENCH_LOCK === '1' ? { lock: true } : {};
  middleware = qsession({ ...storeOptions, ...serializer, ...lock, lifetime: LIFETIME_MS });
} catch (error) {
  if (error?.name === 'SessionOptionsError') skip(`store type "${store}" is not available in this build of koa-qsession (${error.message})`);
  throw error;
}

const app = new Koa();
app.use(middleware);
app.use(async (ctx) => {
  switch (ctx.path) {
    case '/anon': ctx.body = 'anon'; return;
    case '/setup': Object.assign(session, sessionData(...setupArgs(ctx.query))); ctx.body = '0'; return;
    case '/page': await pause(PAGE_WAIT_MS); ctx.body = String(session.user.id); return;
    case '/read': ctx.body = String(session.user.id); return;
    case '/write': { const { user } = session; session.counter += 1; ctx.body = `${user.id} ${session.counter}`; return; }
    case '/check': ctx.body = describe((key) => session[key]); return;
  }
});
ready(await listen(app));
