// koa-session 7 with an external Redis store ({ get, set, destroy } over node-redis, as its README
// shows). BENCH_KOA_SESSION_SIGNED=0: `signed: false` (no signature cookie); otherwise its default,
// signed cookies (app.keys, two HMACs a request), which is what a user gets without asking.
import Koa from 'koa';
import session from 'koa-session';
import { createClient } from 'redis';
import { LIFETIME_MS, PAGE_WAIT_MS, REDIS_URL, SECRET, describe, listen, pause, ready, sessionData, setupArgs } from './common.mjs';

const signed = process.env.BENCH_KOA_SESSION_SIGNED !== '0';
const client = createClient({ url: REDIS_URL });
await client.connect();

const store = {
  async get(key) {
    const raw = await client.get(key);
    return raw ? JSON.parse(raw) : null;
  },
  async set(key, sess, maxAge) {
    const ttl = typeof maxAge === 'number' ? { expiration: { type: 'PX', value: maxAge } } : {};
    await client.set(key, JSON.stringify(sess), ttl);
  },
  async destroy(key) {
    await client.del(key);
  },
};

const app = new Koa();
app.keys = [SECRET];
app.use(session({ store, maxAge: LIFETIME_MS, signed, prefix: signed ? 'koa-sess:' : 'koa-sess-u:' }, app));
app.use(async (ctx) => {
  switch (ctx.path) {
    case '/anon': ctx.body = 'anon'; return;
    case '/setup': Object.assign(ctx.session, sessionData(...setupArgs(ctx.query))); ctx.body = '0'; return;
    case '/page': await pause(PAGE_WAIT_MS); ctx.body = String(ctx.session.user.id); return;
    case '/read': ctx.body = String(ctx.session.user.id); return;
    case '/write': { const { user } = ctx.session; ctx.session.counter += 1; ctx.body = `${user.id} ${ctx.session.counter}`; return; }
    case '/check': ctx.body = describe((key) => ctx.session[key]); return;
  }
});
ready(await listen(app));
