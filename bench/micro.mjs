// In-process cost of koa-qsession per request (memory store), without sockets or a load generator:
// requests are injected (light-my-request) into bare Koa and into Koa + koa-qsession, alternately,
// in batches; the lower quartile of the batch times is kept. Much steadier than throughput on a busy
// machine, so it is the tool for finding where the time goes; `npm run bench` is the real measure.
//   node bench/micro.mjs            (BENCH_MICRO_BATCHES=40, BENCH_MICRO_BATCH=500)
import Koa from 'koa';
import { buildBundle } from './build.mjs';
import { batch, cookiesFor, parallel, quartile } from './lib/inject.mjs';

const { qsession, session } = await import(process.env.BENCH_QSESSION_BUNDLE || (await buildBundle()));
const batches = Number(process.env.BENCH_MICRO_BATCHES ?? 40);
const batchSize = Number(process.env.BENCH_MICRO_BATCH ?? 500);

function routes(app, withSession) {
  app.use((ctx) => {
    switch (ctx.path) {
      case '/anon': ctx.body = 'anon'; return;
      case '/setup': if (withSession) session.counter = 0; ctx.body = '0'; return;
      case '/read': ctx.body = withSession ? String(session.counter) : '0'; return;
      case '/write': if (withSession) session.counter += 1; ctx.body = withSession ? String(session.counter) : '1'; return;
    }
  });
  return app.callback();
}

const bare = routes(new Koa(), false);

// The in-process floor: exactly what a session needs from a Map, no library (cf. contenders/floor.mjs).
const floorApp = new Koa();
const map = new Map();
const sidOf = (header) => header?.split(';').map((p) => p.trim().split('=')).find(([k]) => k === 'sid')?.[1];
floorApp.use(async (ctx) => {
  const expires = () => new Date(Date.now() + 31 * 24 * 3600 * 1000);
  switch (ctx.path) {
    case '/anon': ctx.body = 'anon'; return;
    case '/setup': {
      const id = Math.random().toString(36).slice(2);
      map.set(id, JSON.stringify({ counter: 0 }));
      ctx.cookies.set('sid', id, { httpOnly: true, sameSite: 'lax', expires: expires() });
      ctx.body = '0';
      return;
    }
    default: {
      const id = sidOf(ctx.get('Cookie'));
      const data = JSON.parse((await map.get(id)) ?? '{}');
      if (ctx.path === '/write') {
        data.counter += 1;
        await map.set(id, JSON.stringify(data));
        ctx.cookies.set('sid', id, { httpOnly: true, sameSite: 'lax', expires: expires() });
      }
      ctx.body = String(data.counter);
    }
  }
});
const floor = floorApp.callback();
const qsApp = new Koa();
qsApp.use(qsession({}));
const qs = routes(qsApp, true);

const ok = (response, url) => {
  if (response.statusCode !== 200) throw new Error(`${url}: ${response.statusCode}`);
};
const timed = (handler, url, cookies) => batch(handler, url, cookies, batchSize, ok);
const setup = () => '/setup';
const qsCookies = await cookiesFor(qs, parallel, setup);
const floorCookies = await cookiesFor(floor, parallel, setup);
console.log(`${process.version}: µs per request (lower quartile of ${batches} batches of ${batchSize})`);
for (const route of (process.env.BENCH_MICRO_ROUTES ?? 'anon,read,write').split(',')) {
  const times = { bare: [], floor: [], qs: [] };
  for (let i = 0; i < batches; i++) {
    times.bare.push(await timed(bare, `/${route}`, []));
    times.floor.push(await timed(floor, `/${route}`, route === 'anon' ? [] : floorCookies));
    times.qs.push(await timed(qs, `/${route}`, route === 'anon' ? [] : qsCookies));
  }
  const [b, f, q] = [times.bare, times.floor, times.qs].map(quartile);
  console.log(
    `${route.padEnd(5)} bare Koa ${b.toFixed(1).padStart(6)}  floor (Map) ${f.toFixed(1).padStart(6)}  koa-qsession (memory) ${q.toFixed(1).padStart(6)}` +
      `  over bare ${(q - b).toFixed(1).padStart(5)} µs, over floor ${(q - f).toFixed(1).padStart(5)} µs`,
  );
}
