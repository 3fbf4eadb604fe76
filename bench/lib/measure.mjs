// One measurement: one case (route x payload) of one running contender, driven by the load
// generator (bench/driver.mjs, its own process), with the server's CPU time and the store's
// counters read before and after. `hot` is /write with ONE session's cookie on every connection:
// its lost updates are the 2xx answers (each one an increment the client was told happened) minus
// the counter read afterwards.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BENCH_DIR, ROOT, config } from './config.mjs';
import { contenderCpu, get, newSession } from './contender-process.mjs';
import { diff, memcachedStats, redisCommandStats, redisCpu } from './services.mjs';

let driver;

/** Runs one job on the load generator, started on first use and kept for the run. */
export function runDriver(job) {
  driver ??= spawn(process.execPath, [join(BENCH_DIR, 'driver.mjs')], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    const onExit = (code) => reject(new Error(`the load generator exited with ${code}`));
    driver.once('exit', onExit);
    driver.once('message', (message) => {
      driver.off('exit', onExit);
      if (message.error) reject(new Error(message.error));
      else resolve(message.result);
    });
    driver.send(job);
  });
}

export function stopDriver() {
  driver?.disconnect();
  driver = undefined;
}

async function counters(contender, running, services) {
  return {
    cpu: await contenderCpu(running),
    redisCalls: contender.redis ? await redisCommandStats(services) : undefined,
    redisCpu: contender.redis ? await redisCpu(services) : undefined,
    memcached: contender.memcached ? await memcachedStats(services) : undefined,
  };
}

let hotSessions = 0;

/** Measures `kase` on `running` for `seconds`; `pools[payload]`: the Cookie headers read and write rotate through. */
export async function measure({ contender, running, kase, services, seconds, pools }) {
  const { route, payload } = kase;
  const hotCookie = route === 'hot' ? await newSession(running.base, payload, 1_000_000 + hotSessions++) : undefined;
  const cookies = route === 'anon' ? [] : hotCookie ? [hotCookie] : pools[payload];
  const path = route === 'hot' ? '/write' : `/${route}`;
  const before = await counters(contender, running, services);
  const result = await runDriver({ url: `${running.base}${path}`, connections: config.connections, duration: seconds, cookies });
  const after = await counters(contender, running, services);
  // Per request sent, answered or not: the server did the work for each.
  const sent = result.sent || result.requests;
  result.cpuPerRequestUs = (after.cpu - before.cpu) / sent;
  if (contender.redis) {
    result.redisCpuPerRequestUs = (after.redisCpu - before.redisCpu) / sent;
    result.redisCalls = diff(before.redisCalls, after.redisCalls, ['info']);
  }
  if (contender.memcached) result.memcachedCalls = diff(before.memcached, after.memcached);
  if (hotCookie) {
    await sleep(100); // the requests still in flight when the load generator stopped
    const final = Number((await get(running.base, '/read', hotCookie)).body);
    result.finalCounter = final;
    // A lower bound: a request answered after the load generator stopped counted in `final`, not in `ok`.
    result.lostUpdates = Math.max(0, result.ok - final);
  } else if (route === 'write' && result.ok >= cookies.length) {
    const check = await get(running.base, '/read', cookies[0]);
    if (!(Number(check.body) > 0)) throw new Error(`${contender.id}: the writes did not persist (/read answered ${check.status} ${check.body})`);
  }
  if (route !== 'hot' && (result.non2xx > 0 || result.errors > 0)) {
    console.error(`  warning: ${contender.id} ${kase.key}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  }
  return result;
}
