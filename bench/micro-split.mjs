// What reading one small key costs as the session grows (issue 13: reading the counter of the 4 KB
// session should cost at most 1.2x the same read from the 0.6 KB one). In-process, like micro.mjs:
// requests injected (light-my-request) into Koa + koa-qsession on the memory store, the realistic
// payloads of bench/contenders/payload.mjs (`small`, `large`), alternately, in batches; the lower
// quartile of the batch times is kept. Then the serializer's split alone, on the same stored texts.
//   node bench/micro-split.mjs     (BENCH_MICRO_BATCHES=40, BENCH_MICRO_BATCH=500)
import Koa from 'koa';
import { buildBundle } from './build.mjs';
import { batch, cookiesFor, parallel, quartile } from './lib/inject.mjs';
import { sessionData } from './contenders/payload.mjs';

const { qsession, session, taggedJsonSerializer, jsonSerializer } = await import(process.env.BENCH_QSESSION_BUNDLE || (await buildBundle()));
const batches = Number(process.env.BENCH_MICRO_BATCHES ?? 40);
const batchSize = Number(process.env.BENCH_MICRO_BATCH ?? 500);
const sizes = ['small', 'large'];

function app(options) {
  const koa = new Koa();
  koa.use(qsession(options));
  koa.use((ctx) => {
    switch (ctx.path) {
      case '/setup': Object.assign(session, sessionData(ctx.query.size, Number(ctx.query.n))); ctx.body = '0'; return;
      case '/read': ctx.body = String(session.counter); return;
      case '/check': ctx.body = JSON.stringify(session.toJSON()).length.toString(); return;
    }
  });
  return koa.callback();
}

const zero = (response, url) => {
  if (response.statusCode !== 200 || response.body !== '0') throw new Error(`${url}: ${response.statusCode} ${response.body}`);
};
console.log(`${process.version}: µs per /read of the counter (lower quartile of ${batches} batches of ${batchSize})`);
for (const serializer of (process.env.BENCH_MICRO_SERIALIZERS ?? 'tagged-json,json').split(',')) {
  const handler = app({ serializer });
  const cookies = Object.fromEntries(await Promise.all(sizes.map(async (size) => [size, await cookiesFor(handler, parallel, (n) => `/setup?size=${size}&n=${n}`)])));
  const times = { small: [], large: [] };
  for (let i = 0; i < batches; i++) for (const size of sizes) times[size].push(await batch(handler, '/read', cookies[size], batchSize, zero));
  const [small, large] = sizes.map((size) => quartile(times[size]));
  console.log(`${serializer.padEnd(11)} small ${small.toFixed(1).padStart(6)}  large ${large.toFixed(1).padStart(6)}  large / small ${(large / small).toFixed(2)}x`);
}

// The split alone: what a load does with the stored text before the handler reads anything.
const splitRounds = Number(process.env.BENCH_MICRO_SPLIT ?? 20_000);
for (const [name, serializer] of [['tagged-json', taggedJsonSerializer], ['json', jsonSerializer]]) {
  const line = [];
  for (const size of sizes) {
    const texts = Array.from({ length: parallel }, (_, n) => serializer.dumps({ _permanent: true, ...sessionData(size, n) }));
    const once = () => {
      const started = process.hrtime.bigint();
      for (let i = 0; i < splitRounds; i++) {
        const entries = serializer.entries(texts[i % parallel]);
        // What the read route needs of the split: the counter's value.
        if (entries.find(([key]) => key === 'counter')[1] !== '0') throw new Error('counter');
      }
      return Number(process.hrtime.bigint() - started) / 1000 / splitRounds;
    };
    const runs = Array.from({ length: 10 }, once);
    line.push(`${size} (${texts[0].length} B) ${quartile(runs).toFixed(2).padStart(5)} µs`);
  }
  console.log(`split ${name.padEnd(11)} ${line.join('  ')}`);
}
