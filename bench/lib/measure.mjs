// One measurement: one case (route x payload) of one running contender, with the server's CPU time
// (from the OS) and the store's counters read before and after. The load comes from wrk
// (lib/wrk.mjs), or from autocannon in bench/driver.mjs when wrk is not installed; the page comes
// from bench/driver.mjs. Both run in processes of their own, never in the server's.
// `hot` is POST /write with ONE session's cookie on every connection: its lost updates are the 2xx
// answers (each one an increment the client was told happened) minus the counter read afterwards.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BENCH_DIR, ROOT, config } from './config.mjs';
import { contenderCpu, get, newSession } from './contender-process.mjs';
import { cpuOfProcess, procAvailable } from './proc.mjs';
import { diff, memcachedStats, redisCommandStats, redisCpu } from './services.mjs';
import { findWrk, runWrk } from './wrk.mjs';

let driver;
let queue = Promise.resolve();

/** Runs one job on the Node client process (bench/driver.mjs), started on first use and kept for the run. */
export function runDriver(job) {
  driver ??= spawn(process.execPath, [join(BENCH_DIR, 'driver.mjs')], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const run = () => new Promise((resolve, reject) => {
    const onExit = (code) => reject(new Error(`the load generator exited with ${code}`));
    driver.once('exit', onExit);
    driver.once('message', (message) => {
      driver.off('exit', onExit);
      if (message.error) reject(new Error(message.error));
      else resolve(message.result);
    });
    driver.send(job);
  });
  queue = queue.then(run, run);
  return queue;
}

export function stopDriver() {
  driver?.disconnect();
  driver = undefined;
}

/** The load generator of this run: wrk when installed, else autocannon in the driver process. */
export const loadGenerator = (() => {
  const wrk = findWrk();
  return wrk ? { name: `wrk ${wrk.version}`, wrk } : { name: 'autocannon (wrk is not installed)' };
})();

/** The server's CPU time in µs: the kernel's count when there is a /proc, else its own process.cpuUsage(). */
async function serverCpu(running) {
  return procAvailable ? cpuOfProcess(running.child.pid) : contenderCpu(running);
}

async function counters(contender, running, services) {
  return {
    cpu: await serverCpu(running),
    // The server's own count, to cross-check the kernel's (the report prints how far apart they are).
    selfCpu: await contenderCpu(running),
    redisCalls: contender.redis ? await redisCommandStats(services) : undefined,
    redisCpu: contender.redis ? await redisCpu(services) : undefined,
    memcached: contender.memcached ? await memcachedStats(services) : undefined,
  };
}

function drive({ url, method, cookies, seconds }) {
  if (loadGenerator.wrk) return runWrk(loadGenerator.wrk, { url, method, cookies, seconds, connections: config.connections, threads: config.threads });
  return runDriver({ kind: 'autocannon', url, method, cookies, duration: seconds, connections: config.connections });
}

let hotSessions = 0;

/**
 * Measures `kase` on `running` for `seconds`; `running.pools[payload]`: the Cookie headers read and
 * write rotate through; `running.pageCookie`: the session the page reads.
 */
export async function measure({ contender, running, kase, services, seconds }) {
  const { route, payload } = kase;
  const hotCookie = route === 'hot' ? await newSession(running.base, payload, 1_000_000 + hotSessions++) : undefined;
  const before = await counters(contender, running, services);
  let result;
  if (route === 'page') {
    result = await runDriver({ kind: 'page', url: `${running.base}/page`, cookie: running.pageCookie, parallel: config.pageRequests, seconds });
  } else {
    const cookies = route === 'anon' ? [] : hotCookie ? [hotCookie] : running.pools[payload];
    const method = route === 'write' || route === 'hot' ? 'POST' : 'GET';
    const path = route === 'hot' ? '/write' : `/${route}`;
    result = await drive({ url: `${running.base}${path}`, method, cookies, seconds });
  }
  const after = await counters(contender, running, services);
  // Per request sent, answered or not: the server did the work for each.
  const sent = result.sent || result.requests;
  result.cpuPerRequestUs = (after.cpu - before.cpu) / sent;
  result.selfReportedCpuPerRequestUs = (after.selfCpu - before.selfCpu) / sent;
  result.loadGenCpuPerRequestUs = result.loadGenCpuUs / sent;
  if (contender.redis) {
    result.redisCpuPerRequestUs = (after.redisCpu - before.redisCpu) / sent;
    result.redisCalls = diff(before.redisCalls, after.redisCalls, ['info']);
  }
  if (contender.memcached) result.memcachedCalls = diff(before.memcached, after.memcached);
  if (hotCookie) {
    await sleep(100); // the requests still in flight when the load generator stopped
    const final = counterOf(await get(running.base, '/check', hotCookie));
    result.finalCounter = final;
    // A lower bound: a request answered after the load generator stopped counted in `final`, not in `ok`.
    result.lostUpdates = Math.max(0, result.ok - final);
  } else if (route === 'write' && result.ok >= running.pools[payload].length) {
    const counter = counterOf(await get(running.base, '/check', running.pools[payload][0]));
    if (!(counter > 0)) throw new Error(`${contender.id}: the writes did not persist (/check: counter ${counter})`);
  }
  if (route !== 'hot' && (result.non2xx > 0 || result.errors > 0)) {
    console.error(`  warning: ${contender.id} ${kase.key}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  }
  return result;
}

/** The counter in a /check answer (it ends with `counter=N`). */
function counterOf(answer) {
  const match = answer.status === 200 ? answer.body.match(/counter=(\d+)$/) : null;
  return match ? Number(match[1]) : NaN;
}
