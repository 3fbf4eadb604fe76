// Promises (and other async resources) made per request by koa-qsession on Redis, next to the floor
// (Koa plus the same Redis work by hand, as bench/contenders/floor.mjs): a count, not a timing, so it
// holds on a noisy machine where a saving of a few promises is below the throughput noise. Requests
// are injected one at a time (light-my-request); async_hooks counts what each route makes.
//   node bench/promises.mjs            (BENCH_PROMISES_TRACE=read|write also lists where each promise of one request is made)
import { createHook } from 'node:async_hooks';
import Koa from 'koa';
import inject from 'light-my-request';
import { createClient } from 'redis';
import { startRedis, tempDir } from '../scripts/servers.mjs';
import { buildBundle } from './build.mjs';
import { sessionData } from './contenders/payload.mjs';

const REQUESTS = 100;
const LIFETIME_MS = 31 * 24 * 3600 * 1000;
const trace = process.env.BENCH_PROMISES_TRACE;
const dir = tempDir('promises');
const redis = await startRedis({ dir: dir.path });
const client = createClient({ url: redis.url });
await client.connect();
const { qsession, session } = await import(process.env.BENCH_QSESSION_BUNDLE || (await buildBundle()));

const middleware = qsession({ type: 'redis', redis: redis.url, lifetime: LIFETIME_MS });
const qsApp = new Koa();
qsApp.use(middleware);
qsApp.use((ctx) => {
  switch (ctx.path) {
    case '/setup': Object.assign(session, sessionData('small', 1)); ctx.body = '0'; return;
    case '/anon': ctx.body = 'anon'; return;
    case '/read': ctx.body = String(session.user.id); return;
    case '/write': { const { user } = session; session.counter += 1; ctx.body = `${user.id} ${session.counter}`; return; }
  }
});
const floorApp = new Koa();
floorApp.use(async (ctx) => {
  if (ctx.path === '/anon') { ctx.body = 'anon'; return; }
  if (ctx.path === '/setup') {
    await client.set('floor:1', JSON.stringify(sessionData('small', 1)));
    ctx.cookies.set('sid', '1', { httpOnly: true, sameSite: 'lax', expires: new Date(Date.now() + LIFETIME_MS) });
    ctx.body = '0';
    return;
  }
  const data = JSON.parse(await client.get('floor:1'));
  if (ctx.path === '/write') {
    data.counter += 1;
    await client.set('floor:1', JSON.stringify(data), { expiration: { type: 'PX', value: LIFETIME_MS } });
    ctx.cookies.set('sid', '1', { httpOnly: true, sameSite: 'lax', expires: new Date(Date.now() + LIFETIME_MS) });
  }
  ctx.body = String(data.user.id);
});

const contenders = [];
for (const [name, app] of [['koa-qsession', qsApp], ['floor', floorApp]]) {
  const handler = app.callback();
  const setup = await inject(handler, { url: '/setup' });
  contenders.push({ name, handler, cookie: String(setup.headers['set-cookie']).split(';')[0] });
}

const counts = new Map();
const sites = new Map();
let counting = false;
let tracing = false;
createHook({
  init(_id, type) {
    if (counting) counts.set(type, (counts.get(type) ?? 0) + 1);
    if (tracing && type === 'PROMISE') {
      const frames = new Error().stack.split('\n').slice(2).map((line) => line.trim()).filter((line) => !line.includes('async_hooks') && !line.includes('promises.mjs'));
      const site = frames.slice(0, 3).join(' < ');
      sites.set(site, (sites.get(site) ?? 0) + 1);
    }
  },
}).enable();

const send = (contender, route) =>
  inject(contender.handler, { method: route === 'write' ? 'POST' : 'GET', url: `/${route}`, headers: route === 'anon' ? {} : { cookie: contender.cookie } });

console.log(`${process.version}, Redis: async resources made per request (mean of ${REQUESTS}, after 50 to warm up; light-my-request's own included)`);
for (const route of ['anon', 'read', 'write']) {
  for (const contender of contenders) {
    for (let i = 0; i < 50; i++) await send(contender, route);
    counts.clear();
    counting = true;
    for (let i = 0; i < REQUESTS; i++) {
      const response = await send(contender, route);
      if (response.statusCode !== 200) throw new Error(`${contender.name} ${route}: ${response.statusCode}`);
    }
    counting = false;
    const summary = [...counts].map(([type, n]) => `${type} ${(n / REQUESTS).toFixed(1)}`).join(', ');
    console.log(`${route.padEnd(5)} ${contender.name.padEnd(12)} ${summary}`);
  }
}
if (trace) {
  tracing = true;
  await send(contenders[0], trace);
  tracing = false;
  console.log(`\nwhere koa-qsession's ${trace} makes its promises:`);
  for (const [site, n] of [...sites].sort((a, b) => b[1] - a[1])) console.log(`${n} ${site}`);
}

await middleware.close();
await client.quit();
await redis.stop();
dir.remove();
