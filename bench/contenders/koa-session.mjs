// koa-session 7 with an external Redis store ({ get, set, destroy } over node-redis, as its README
// shows), default options otherwise (signed cookies, so app.keys).
import Koa from 'koa';
import session from 'koa-session';
import { createClient } from 'redis';
import { LIFETIME_MS, REDIS_URL, SECRET, describe, listen, ready, sessionData, setupArgs } from './common.mjs';

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
app.use(session({ store, maxAge: LIFETIME_MS, prefix: 'koa-sess:' }, app));
app.use((ctx) => {
  switch (ctx.path) {
    case '/anon': ctx.body = 'anon'; return;
    case '/setup': Object.assign(ctx.session, sessionData(...setupArgs(ctx.query))); ctx.body = '0'; return;
    case '/read': ctx.body = String(ctx.session.counter); return;
    case '/write': ctx.session.counter += 1; ctx.body = String(ctx.session.counter); return;
    case '/check': ctx.body = describe((key) => ctx.session[key]); return;
  }
});
ready(await listen(app));
