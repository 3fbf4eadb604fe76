// Everything measured on one Node binary: start every contender at once, give each its pools of
// sessions, warm up, then the rounds, interleaved (case by case, every contender back to back, so
// the ones compared share the machine's state), then the summaries, the targets and the memory cost.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { describe, sessionData } from '../contenders/payload.mjs';
import { BENCH_DIR, ROUTES, cases, config, onlyContenders, profiled, versionOf } from './config.mjs';
import { selected } from './contenders.mjs';
import { get, newSession, sessionPool, startContender, stopContender } from './contender-process.mjs';
import { loadGenerator, measure } from './measure.mjs';
import { memoryCost } from './memory.mjs';
import { evaluateTargets, summarize } from './stats.mjs';

const log = (...args) => console.error(...args);
const hasSessions = (contender) => !contender.sessionless;
/** /check of a session made with sessionData(payload, 0), whatever its counter now. */
const expectedCheck = (payload) => describe((key) => sessionData(payload, 0)[key]).replace(/counter=\d+$/, 'counter=');

async function start(node, contender, extraEnv, entry) {
  const profileDir = join(BENCH_DIR, '.profiles');
  if (profiled.includes(contender.id)) mkdirSync(profileDir, { recursive: true });
  const interval = process.env.BENCH_PROFILE_INTERVAL ? [`--cpu-prof-interval=${process.env.BENCH_PROFILE_INTERVAL}`] : [];
  const nodeArgs = profiled.includes(contender.id) ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, ...interval] : [];
  const running = await startContender(node, contender, extraEnv, nodeArgs);
  if (running.skip) return running;
  const anon = await get(running.base, '/anon');
  if (anon.status !== 200) throw new Error(`${contender.id}: /anon answered ${anon.status}`);
  entry.anonSetsCookie = anon.cookies.length > 0;
  running.pools = {};
  if (hasSessions(contender)) {
    for (const payload of config.payloads) {
      running.pools[payload] = await sessionPool(running.base, payload, config.pool);
      await checkSession(contender, running, payload, /counter=0$/);
    }
    // The session the parallel-read page reads (bare Koa's page sends no cookie).
    running.pageCookie = await newSession(running.base, 'small', 2_000_000);
  }
  return running;
}

/** The first session of the pool still holds its whole payload (and a counter matching `counter`). */
async function checkSession(contender, running, payload, counter) {
  const answer = await get(running.base, '/check', running.pools[payload][0]);
  if (answer.status !== 200 || !answer.body.startsWith(expectedCheck(payload)) || !counter.test(answer.body)) {
    throw new Error(`${contender.id}: /check of a ${payload} session answered ${answer.status} ${answer.body}`);
  }
}

/**
 * The plan with each case's contenders rotated by the round: who is measured first in a case (right
 * after another case's load) changes from round to round, so no contender always gets that slot.
 */
function rotated(plan, round) {
  const byCase = new Map();
  for (const step of plan) {
    if (!byCase.has(step.kase.key)) byCase.set(step.kase.key, []);
    byCase.get(step.kase.key).push(step);
  }
  return [...byCase.values()].flatMap((steps) => {
    const shift = (round - 1) % steps.length;
    return [...steps.slice(shift), ...steps.slice(0, shift)];
  });
}

export async function benchRuntime(node, bundle, services) {
  const version = versionOf(node);
  const fsDir = join(services.dir, `filesystem-${version}`);
  const extraEnv = { BENCH_REDIS_URL: services.redisUrl, BENCH_MEMCACHED: services.memcachedAddress ?? '', BENCH_QSESSION_BUNDLE: bundle, BENCH_FS_DIR: fsDir };
  log(`\n== Node ${version} (${node})`);
  const contenders = {};
  const running = {};
  const chosen = selected(onlyContenders);
  try {
    for (const contender of chosen) {
      const entry = (contenders[contender.id] = { label: contender.label, cases: {} });
      if (contender.memcached && !services.memcachedAddress) entry.skipped = 'memcached is not installed';
      const started = entry.skipped ? undefined : await start(node, contender, extraEnv, entry);
      if (started?.skip) entry.skipped = started.skip;
      if (entry.skipped) log(`note: ${contender.id} skipped: ${entry.skipped}`);
      else running[contender.id] = started;
    }
    const plan = cases().flatMap((kase) =>
      chosen.filter((c) => running[c.id] && (c.routes ?? ROUTES).includes(kase.route)).map((contender) => ({ contender, kase })),
    );
    const run = ({ contender, kase }, seconds) =>
      measure({ contender, running: running[contender.id], kase, services, seconds, pools: running[contender.id].pools });
    if (config.warmup > 0) {
      log(`warm-up: ${plan.length} x ${config.warmup} s`);
      for (const step of plan) await run(step, config.warmup);
    }
    for (let round = 1; round <= config.rounds; round++) {
      log(`round ${round}/${config.rounds} (load average ${loadavg()[0].toFixed(2)})`);
      for (const step of rotated(plan, round)) {
        const result = await run(step, config.seconds);
        ((contenders[step.contender.id].cases[step.kase.key] ??= { rounds: [] }).rounds).push(result);
        const lost = result.lostUpdates ? `, ${result.lostUpdates} of ${result.ok} updates lost` : '';
        const failed = result.non2xx + result.errors ? `, ${result.non2xx + result.errors} non-2xx${lost}` : lost;
        const latency = step.kase.route === 'page'
          ? `page p50 ${result.pageP50.toFixed(1)} ms, p99 ${result.pageP99.toFixed(1)} ms`
          : `p50 ${result.latencyP50.toFixed(2)} ms  p99 ${result.latencyP99.toFixed(2)} ms`;
        log(`  ${step.kase.key.padEnd(11)} ${step.contender.id.padEnd(20)} ${result.rps.toFixed(0).padStart(6)} req/s  ${latency}  ${result.cpuPerRequestUs.toFixed(1).padStart(5)} µs CPU/req (load generator ${result.loadGenCpuPerRequestUs.toFixed(1)})${failed}`);
      }
    }
    // After every round of writes, each library still holds the whole session.
    for (const contender of chosen) {
      if (running[contender.id] && hasSessions(contender)) {
        for (const payload of config.payloads) await checkSession(contender, running[contender.id], payload, /counter=\d+$/);
      }
    }
  } finally {
    await Promise.all(Object.values(running).map(stopContender));
    rmSync(fsDir, { recursive: true, force: true });
  }
  for (const entry of Object.values(contenders)) {
    for (const [key, { rounds }] of Object.entries(entry.cases)) entry.cases[key] = summarize(rounds);
  }
  let memory;
  if (config.memorySessions > 0 && chosen.some((c) => c.id === 'qs-memory')) {
    log(`memory store: ${config.memorySessions} sessions`);
    memory = await memoryCost(node, extraEnv);
  }
  return { node: version, path: node, loadGenerator: loadGenerator.name, contenders, targets: evaluateTargets(contenders, config.payloads), memory };
}
