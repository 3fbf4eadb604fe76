// The floor: Koa plus exactly the Redis work a server-side session needs, no session library.
// Parse the cookie, GET, JSON.parse; on write JSON.stringify, SET PX and a refreshed cookie.
import Koa from 'koa';
import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { LIFETIME_MS, REDIS_URL, listen, ready } from './common.mjs';

const client = createClient({ url: REDIS_URL });
await client.connect();
const COOKIE = 'sid';
const PREFIX = 'floor:';
const cookieOptions = () => ({ httpOnly: true, sameSite: 'lax', expires: new Date(Date.now() + LIFETIME_MS) });

function sidOf(header) {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

const app = new Koa();
app.use(async (ctx) => {
  switch (ctx.path) {
    case '/anon':
      ctx.body = 'anon';
      return;
    case '/setup': {
      const id = randomBytes(32).toString('base64url');
      await client.set(PREFIX + id, JSON.stringify({ counter: 0 }), { expiration: { type: 'PX', value: LIFETIME_MS } });
      ctx.cookies.set(COOKIE, id, cookieOptions());
      ctx.body = '0';
      return;
    }
    case '/read':
    case '/write': {
      const id = sidOf(ctx.get('Cookie'));
      const raw = id ? await client.get(PREFIX + id) : null;
      const data = raw ? JSON.parse(raw) : {};
      if (ctx.path === '/write') {
        data.counter = (data.counter ?? 0) + 1;
        await client.set(PREFIX + id, JSON.stringify(data), { expiration: { type: 'PX', value: LIFETIME_MS } });
        ctx.cookies.set(COOKIE, id, cookieOptions());
      }
      ctx.body = String(data.counter);
      return;
    }
  }
});
ready(await listen(app));
