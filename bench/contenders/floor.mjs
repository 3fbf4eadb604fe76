// The floor: Koa plus exactly the Redis work a server-side session needs, no session library.
// Parse the cookie, GET, JSON.parse; on write JSON.stringify, SET PX and a refreshed cookie.
// It saves with a blind SET, so concurrent writes of one session lose updates (the `hot` route).
import Koa from 'koa';
import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { LIFETIME_MS, PAGE_WAIT_MS, REDIS_URL, describe, listen, pause, ready, sessionData, setupArgs } from './common.mjs';

const client = createClient({ url: REDIS_URL });
await client.connect();
const COOKIE = 'sid';
const PREFIX = 'floor:';
const cookieOptions = () => ({ httpOnly: true, sameSite: 'lax', expires: new Date(Date.now() + LIFETIME_MS) });
const save = (id, data) => client.set(PREFIX + id, JSON.stringify(data), { expiration: { type: 'PX', value: LIFETIME_MS } });

function sidOf(header) {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

async function load(ctx) {
  const id = sidOf(ctx.get('Cookie'));
  const raw = id ? await client.get(PREFIX + id) : null;
  return { id, data: raw ? JSON.parse(raw) : {} };
}

const app = new Koa();
app.use(async (ctx) => {
  switch (ctx.path) {
    case '/anon':
      ctx.body = 'anon';
      return;
    case '/setup': {
      const id = randomBytes(32).toString('base64url');
      await save(id, sessionData(...setupArgs(ctx.query)));
      ctx.cookies.set(COOKIE, id, cookieOptions());
      ctx.body = '0';
      return;
    }
    case '/page':
      await pause(PAGE_WAIT_MS);
    // falls through: a page's request reads like /read
    case '/read': {
      const { data } = await load(ctx);
      ctx.body = String(data.user.id);
      return;
    }
    case '/write': {
      const { id, data } = await load(ctx);
      const { user } = data;
      data.counter = (data.counter ?? 0) + 1;
      await save(id, data);
      ctx.cookies.set(COOKIE, id, cookieOptions());
      ctx.body = `${user.id} ${data.counter}`;
      return;
    }
    case '/check': {
      const { data } = await load(ctx);
      ctx.body = describe((key) => data[key]);
      return;
    }
  }
});
ready(await listen(app));
