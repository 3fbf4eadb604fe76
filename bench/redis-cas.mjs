// What Redis itself spends on one session write (issue 22, part 3): a plain `SET … PX` (the floor's
// blind save) against the compare-and-set koa-qsession ships (EVALSHA of COMPARE_AND_SET, read from
// src/stores/redis/scripts.ts), and a script that does nothing with the same arguments (the cost of
// entering Lua and handing it the values). redis-benchmark (C, its own process) sends each command
// to a throwaway redis-server; Redis's own figures are read around each: INFO commandstats
// (usec_per_call: time inside the command) and INFO cpu (the main thread's CPU, parsing and replies
// included). The compare-and-set succeeds on every call: the expected value and the new one are the
// same bytes, the size of the bench's sessions (bench/contenders/payload.mjs).
//   node bench/redis-cas.mjs           (BENCH_CAS_REQUESTS=100000, BENCH_CAS_RUNS=3)
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createClient } from 'redis';
import { startRedis, tempDir } from '../scripts/servers.mjs';
import { sessionData } from './contenders/payload.mjs';

const requests = Number(process.env.BENCH_CAS_REQUESTS ?? 100_000);
const runs = Number(process.env.BENCH_CAS_RUNS ?? 3);
const source = readFileSync(new URL('../src/stores/redis/scripts.ts', import.meta.url), 'utf8');
const cas = source.match(/export const COMPARE_AND_SET = script\(`([^`]*)`\)/)?.[1];
if (!cas) throw new Error('COMPARE_AND_SET not found in src/stores/redis/scripts.ts');
const NOTHING = 'return 1';
const sha = (lua) => createHash('sha1').update(lua).digest('hex');
const TTL = String(31 * 24 * 3600 * 1000);

const dir = tempDir('redis-cas');
const redis = await startRedis({ dir: dir.path });
const client = createClient({ url: redis.url });
await client.connect();
try {
  await client.scriptLoad(cas);
  await client.scriptLoad(NOTHING);
  const version = (await client.info('server')).match(/redis_version:(\S+)/)[1];
  console.log(`Redis ${version}; ${requests} calls per variant, 16 connections (redis-benchmark); µs per call, median of ${runs} runs`);
  console.log('| payload | variant | inside the command (commandstats) | main thread CPU (INFO cpu) |');
  console.log('|---|---|---:|---:|');
  for (const size of ['small', 'large']) {
    const value = JSON.stringify({ _permanent: true, ...sessionData(size, 0) });
    await client.set('s', value);
    const variants = [
      ['GET (the load)', 'get', ['GET', 's']],
      ['SET … PX (blind save)', 'set', ['SET', 's', value, 'PX', TTL]],
      ['EVALSHA compare-and-set', 'evalsha', ['EVALSHA', sha(cas), '1', 's', value, value, TTL]],
      ['EVALSHA of `return 1`, same arguments', 'evalsha', ['EVALSHA', sha(NOTHING), '1', 's', value, value, TTL]],
    ];
    for (const [label, stat, command] of variants) {
      const inside = [];
      const cpu = [];
      for (let run = 0; run < runs; run++) {
        await client.configResetStat();
        const before = await mainCpu(client);
        execFileSync('redis-benchmark', ['-p', String(redis.port), '-c', '16', '-n', String(requests), '-q', ...command], { stdio: ['ignore', 'ignore', 'inherit'] });
        const after = await mainCpu(client);
        const stats = await client.info('commandstats');
        const line = stats.match(new RegExp(`cmdstat_${stat}:calls=(\\d+),usec=(\\d+),usec_per_call=([\\d.]+)`));
        inside.push(Number(line[3]));
        // INFO and CONFIG RESETSTAT are a handful of calls against `requests`.
        cpu.push((after - before) / Number(line[1]));
      }
      console.log(`| ${size} (${Buffer.byteLength(value)} B) | ${label} | ${median(inside).toFixed(2)} | ${median(cpu).toFixed(2)} |`);
    }
  }
} finally {
  await client.quit().catch(() => {});
  await redis.stop();
  dir.remove();
}

async function mainCpu(c) {
  const info = await c.info('cpu');
  const read = (name) => Number(info.match(new RegExp(`^${name}:([\\d.]+)`, 'm'))[1]);
  return (read('used_cpu_user_main_thread') + read('used_cpu_sys_main_thread')) * 1e6;
}

function median(values) {
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}
