// `npm run bench`: throughput of koa-qsession against bare Koa, the raw-Redis floor and the peers.
//
// Starts its own redis-server and memcached on free loopback ports (in a temp dir), runs each
// contender in its own Node process and drives it with autocannon in another process
// (bench/driver.mjs). Rounds are interleaved (A B C ... A B C ...); medians and per-round ratios
// are reported. Also: Redis commands per request (INFO commandstats deltas), memcached gets/sets
// per request, and the memory store's heap per session and RSS (bench/memory.mjs).
// Writes bench/results.json, then bench/report.mjs writes results.md, results.svg and the bench/README.md table.
//
// Environment (defaults are the full run, about 10 minutes on 2 cores for Node 20 + Node 24):
//   BENCH_ROUNDS=5        interleaved rounds
//   BENCH_SECONDS=1.2     seconds per measurement
//   BENCH_WARMUP=1        seconds of warm-up per contender and route, before the first round (0: none)
//   BENCH_CONNECTIONS=32  concurrent connections (each with its own session)
//   BENCH_NODE=/path/a[,/path/b]  runtimes to run the contenders on (default: this node, plus
//                         Node 24 from .runtimes/ when the project provides it)
//   BENCH_CONTENDERS=floor,qs-redis  only these contenders (ids below); BENCH_ROUTES=read,write
//   BENCH_SESSIONS=1000000  sessions created by the memory-store measurement (0: skip it)
//   BENCH_PROFILE=qs-redis  run that contender with --cpu-prof (profiles in bench/.profiles/)
//   BENCH_OUT=bench/results.json  where the raw results go
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import { buildBundle } from './build.mjs';
import { writeReport } from './report.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..');
const env = process.env;
const num = (name, fallback) => (env[name] === undefined || env[name] === '' ? fallback : Number(env[name]));
const list = (name) => (env[name] ? env[name].split(',').map((s) => s.trim()).filter(Boolean) : undefined);

const config = {
  rounds: num('BENCH_ROUNDS', 5),
  seconds: num('BENCH_SECONDS', 1.2),
  warmup: num('BENCH_WARMUP', 1),
  connections: num('BENCH_CONNECTIONS', 32),
  sessions: num('BENCH_SESSIONS', 1_000_000),
};
const ROUTES = ['anon', 'read', 'write'];

/** The contenders. `routes` limits what is measured; `redis` / `memcached`: count its store commands. */
export const CONTENDERS = [
  { id: 'bare', label: 'bare Koa (no sessions)', file: 'bare.mjs', routes: ['anon'] },
  { id: 'floor', label: 'floor: Koa + raw node-redis', file: 'floor.mjs', redis: true },
  { id: 'qs-memory', label: 'koa-qsession, memory', file: 'qsession.mjs', env: { BENCH_STORE: 'memory' } },
  { id: 'qs-redis', label: 'koa-qsession, Redis', file: 'qsession.mjs', env: { BENCH_STORE: 'redis' }, redis: true },
  // The default serializer is Quart-compatible tagged JSON; this one shows what plain JSON saves.
  { id: 'qs-redis-json', label: "koa-qsession, Redis, serializer 'json'", file: 'qsession.mjs', env: { BENCH_STORE: 'redis', BENCH_SERIALIZER: 'json' }, redis: true, routes: ['read', 'write'] },
  { id: 'qs-memcached', label: 'koa-qsession, memcached', file: 'qsession.mjs', env: { BENCH_STORE: 'memcached' }, memcached: true },
  { id: 'koa-session', label: 'koa-session 7, Redis store', file: 'koa-session.mjs', redis: true },
  { id: 'fastify-session', label: '@fastify/session + connect-redis', file: 'fastify-session.mjs', redis: true },
  { id: 'express-session', label: 'express-session + connect-redis', file: 'express-session.mjs', redis: true },
];

const log = (...args) => console.error(...args);

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends `command` over a fresh TCP connection and returns the reply up to `until`. */
function tcpAsk(port, command, until) {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    socket.setEncoding('utf8');
    socket.once('error', reject);
    socket.on('connect', () => socket.write(command));
    socket.on('data', (chunk) => {
      reply += chunk;
      if (reply.includes(until)) {
        socket.end();
        resolve(reply);
      }
    });
  });
}

async function waitFor(check, what, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${what} did not start: ${error.message}`);
      await sleep(50);
    }
  }
}

/** redis-server and memcached of our own, on free ports, never the machine's 6379. */
async function startServices(dir) {
  const services = [];
  const redisPort = await freePort();
  const redis = spawn('/usr/bin/redis-server', [
    '--port', String(redisPort), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no',
    '--daemonize', 'no', '--protected-mode', 'yes', '--logfile', join(dir, 'redis.log'),
  ], { stdio: 'ignore' });
  services.push(redis);
  await waitFor(async () => {
    if ((await tcpAsk(redisPort, 'PING\r\n', '\r\n')).trim() !== '+PONG') throw new Error('no PONG');
  }, 'redis-server');

  let memcachedPort;
  if (existsSync('/usr/bin/memcached')) {
    memcachedPort = await freePort();
    const args = ['-p', String(memcachedPort), '-l', '127.0.0.1', '-U', '0', '-m', '512', '-t', '1'];
    if (process.getuid?.() === 0) args.push('-u', 'root');
    const memcached = spawn('/usr/bin/memcached', args, { stdio: 'ignore' });
    services.push(memcached);
    await waitFor(() => tcpAsk(memcachedPort, 'version\r\n', '\r\n'), 'memcached');
  } else {
    log('note: /usr/bin/memcached not found; the memcached contender is skipped');
  }
  const stop = () =>
    Promise.all(services.map((p) => new Promise((resolve) => {
      if (p.exitCode !== null || p.signalCode !== null) return resolve();
      p.once('exit', resolve);
      p.kill('SIGTERM');
    })));
  return { redisPort, memcachedPort, stop };
}

async function redisCommandStats(client) {
  const info = await client.info('commandstats');
  const calls = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[match[1]] = Number(match[2]);
  return calls;
}

/** redis-server's own CPU time in µs (main thread, user + sys). */
async function redisCpu(client) {
  const info = await client.info('cpu');
  const read = (name) => Number(info.match(new RegExp(`^${name}:([\\d.]+)`, 'm'))?.[1] ?? NaN);
  return (read('used_cpu_user_main_thread') + read('used_cpu_sys_main_thread')) * 1e6;
}

/** The contender's CPU time in µs (user + sys), asked over IPC. */
function contenderCpu(running) {
  return new Promise((resolve) => {
    const onMessage = (message) => {
      if (message?.cpu) {
        running.child.off('message', onMessage);
        resolve(message.cpu.user + message.cpu.system);
      }
    };
    running.child.on('message', onMessage);
    running.child.send('cpu');
  });
}

async function memcachedStats(port) {
  const reply = await tcpAsk(port, 'stats\r\n', 'END\r\n');
  const stats = {};
  for (const match of reply.matchAll(/^STAT (\S+) (\S+)/gm)) stats[match[1]] = Number(match[2]);
  return { get: stats.cmd_get, set: stats.cmd_set, touch: stats.cmd_touch, delete: (stats.delete_hits ?? 0) + (stats.delete_misses ?? 0) };
}

function diff(before, after, ignore = []) {
  const delta = {};
  for (const [name, value] of Object.entries(after)) {
    if (ignore.includes(name)) continue;
    const d = value - (before[name] ?? 0);
    if (d > 0) delta[name] = d;
  }
  return delta;
}

/** The runtimes: BENCH_NODE, or this node plus Node 24 when the project provides one. */
async function runtimes() {
  const explicit = list('BENCH_NODE');
  if (explicit) return explicit;
  const found = [process.execPath];
  const major = Number(process.versions.node.split('.')[0]);
  if (major !== 24) {
    let node24;
    const installer = join(root, 'scripts', 'runtimes.mjs');
    if (existsSync(installer)) {
      try {
        const { ensureRuntimes } = await import(installer);
        node24 = ensureRuntimes(['node24']).node24;
      } catch (error) {
        log(`note: scripts/runtimes.mjs could not provide Node 24 (${error.message})`);
      }
    }
    node24 ??= [join(root, '.runtimes/node_modules/node24/bin/node'), join(root, 'node_modules/.bin/node24')].find(existsSync);
    if (node24) found.push(node24);
    else log('note: Node 24 is not available (no scripts/runtimes.mjs, no .runtimes/node24); running on this Node only. Set BENCH_NODE=/path/to/node24 to add it.');
  }
  return found;
}

function versionOf(node) {
  return execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
}

/** Starts a contender and waits for its {"ready": port} (or {"skip": why}) line. */
function startContender(node, contender, extraEnv, profileDir) {
  const args = [];
  if (profileDir) args.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`);
  args.push(join(here, 'contenders', contender.file));
  const child = spawn(node, args, {
    cwd: root,
    env: { ...env, NODE_ENV: 'production', ...extraEnv, ...contender.env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${contender.id} did not start in 20 s\n${stderr}`)), 20_000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (!line) return;
      clearTimeout(timer);
      const message = JSON.parse(line);
      if (message.skip) resolve({ skip: message.skip });
      else resolve({ child, port: message.ready, stderr: () => stderr });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${contender.id} exited with ${code} before it was ready\n${stderr}`));
    });
  });
}

function stopContender(running) {
  return new Promise((resolve) => {
    if (running.child.exitCode !== null) return resolve();
    running.child.once('exit', () => resolve());
    running.child.kill('SIGTERM');
    setTimeout(() => running.child.kill('SIGKILL'), 5000).unref();
  });
}

function cookiesOf(response) {
  return response.headers.getSetCookie().map((c) => c.split(';')[0]).filter((c) => !c.endsWith('='));
}

/** One session per connection, made by the contender's /setup route; returns the Cookie headers. */
async function setupSessions(base, count) {
  const cookies = [];
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${base}/setup`);
    await response.text();
    const pairs = cookiesOf(response);
    if (response.status !== 200 || pairs.length === 0) throw new Error(`${base}/setup gave ${response.status} and no cookie`);
    cookies.push(pairs.join('; '));
  }
  return cookies;
}

async function get(base, path, cookie) {
  const response = await fetch(`${base}${path}`, { headers: cookie ? { cookie } : {} });
  return { status: response.status, body: await response.text(), cookies: cookiesOf(response) };
}

/** The load generator process (bench/driver.mjs), started once and given one job at a time. */
let driver;
function runDriver(options) {
  driver ??= spawn(process.execPath, [join(here, 'driver.mjs')], { cwd: root, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    const onExit = (code) => reject(new Error(`the load generator exited with ${code}`));
    driver.once('exit', onExit);
    driver.once('message', (message) => {
      driver.off('exit', onExit);
      if (message.error) reject(new Error(message.error));
      else resolve(message.result);
    });
    driver.send(options);
  });
}

/** One measurement of one route of one running contender. */
async function measure(contender, running, route, services, seconds) {
  const base = `http://127.0.0.1:${running.port}`;
  const cookies = route === 'anon' ? [] : await setupSessions(base, config.connections);
  if (route !== 'anon') {
    const check = await get(base, '/read', cookies[0]);
    if (check.body !== '0') throw new Error(`${contender.id}: /read after /setup answered ${check.status} ${check.body}`);
  }
  const redisBefore = contender.redis ? await redisCommandStats(services.redisClient) : undefined;
  const redisCpuBefore = contender.redis ? await redisCpu(services.redisClient) : undefined;
  const memcachedBefore = contender.memcached ? await memcachedStats(services.memcachedPort) : undefined;
  const cpuBefore = await contenderCpu(running);
  const result = await runDriver({ url: `${base}/${route}`, connections: config.connections, duration: seconds, cookies });
  const sent = result.sent ?? result.requests;
  // Server CPU per request: the work, which a busy machine disturbs far less than the throughput.
  result.cpuPerRequestUs = ((await contenderCpu(running)) - cpuBefore) / sent;
  if (contender.redis) {
    result.redisCpuPerRequestUs = ((await redisCpu(services.redisClient)) - redisCpuBefore) / sent;
    result.redisCalls = diff(redisBefore, await redisCommandStats(services.redisClient), ['info']);
  }
  if (contender.memcached) result.memcachedCalls = diff(memcachedBefore, await memcachedStats(services.memcachedPort));
  if (route === 'write') {
    const check = await get(base, '/read', cookies[0]);
    if (!(Number(check.body) > 0)) throw new Error(`${contender.id}: the writes did not persist (/read answered ${check.body})`);
  }
  if (result.non2xx > 0 || result.errors > 0) log(`  warning: ${contender.id} ${route}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return result;
}

const median = (values) => {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Calls per request, summed over commands, from the rounds' deltas. */
function perRequest(rounds, key) {
  const requests = rounds.reduce((sum, r) => sum + (r.sent ?? r.requests), 0);
  if (!rounds.every((r) => r[key])) return undefined;
  const totals = {};
  for (const r of rounds) for (const [name, n] of Object.entries(r[key])) totals[name] = (totals[name] ?? 0) + n;
  const byCommand = Object.fromEntries(Object.entries(totals).map(([name, n]) => [name, n / requests]).filter(([, v]) => v >= 0.005));
  return { total: Object.values(totals).reduce((a, b) => a + b, 0) / requests, byCommand };
}

/** The ratios that matter: median over rounds of (a / b) in the same round. */
export const RATIOS = [
  { a: 'qs-redis', b: 'floor', routes: ['read', 'write'], target: 0.85 },
  { a: 'qs-redis', b: 'koa-session', routes: ['read', 'write'], target: 1.5 },
  { a: 'qs-redis-json', b: 'floor', routes: ['read', 'write'] },
  { a: 'qs-redis', b: 'fastify-session', routes: ['read', 'write'] },
  { a: 'qs-redis', b: 'express-session', routes: ['read', 'write'] },
  { a: 'qs-memcached', b: 'floor', routes: ['read', 'write'] },
  { a: 'qs-memory', b: 'floor', routes: ['read', 'write'] },
  { a: 'qs-redis', b: 'bare', routes: ['anon'], target: 0.95, targetNote: 'Node 24' },
  { a: 'qs-memory', b: 'bare', routes: ['anon'] },
  { a: 'koa-session', b: 'bare', routes: ['anon'] },
];

function ratios(contenders) {
  const out = [];
  for (const { a, b, routes, target, targetNote } of RATIOS) {
    for (const route of routes) {
      const ra = contenders[a]?.routes?.[route]?.rounds;
      const rb = contenders[b]?.routes?.[route]?.rounds;
      if (!ra || !rb) continue;
      const perRound = ra.map((r, i) => (rb[i] ? r.rps / rb[i].rps : NaN));
      // The same comparison from server CPU per request (b's CPU / a's CPU: above 1, a does less work).
      const cpuRatio = median(ra.map((r, i) => (rb[i] ? rb[i].cpuPerRequestUs / r.cpuPerRequestUs : NaN)));
      out.push({ a, b, route, ratio: median(perRound), perRound, cpuRatio, target, targetNote });
    }
  }
  return out;
}

async function memoryCost(node, bundle) {
  if (!config.sessions) return undefined;
  const run = (maxEntries) =>
    new Promise((resolve, reject) => {
      const child = spawn(node, ['--expose-gc', join(here, 'memory.mjs')], {
        cwd: root,
        env: { ...env, NODE_ENV: 'test', BENCH_QSESSION_BUNDLE: bundle, BENCH_SESSIONS: String(config.sessions), BENCH_MAX_ENTRIES: String(maxEntries) },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (chunk) => { out += chunk; });
      child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`memory.mjs exited with ${code}`))));
    });
  // All kept (maxEntries = sessions): heap per session. Then the default bound of 100 000: RSS stays flat.
  return { unbounded: await run(config.sessions), bounded: await run(Math.min(100_000, config.sessions)) };
}

async function benchRuntime(node, bundle, services) {
  const version = versionOf(node);
  const only = list('BENCH_CONTENDERS');
  const onlyRoutes = list('BENCH_ROUTES');
  const profile = list('BENCH_PROFILE') ?? [];
  const profileDir = join(here, '.profiles');
  const extraEnv = {
    BENCH_REDIS_URL: `redis://127.0.0.1:${services.redisPort}`,
    BENCH_MEMCACHED: services.memcachedPort ? `127.0.0.1:${services.memcachedPort}` : '',
    BENCH_QSESSION_BUNDLE: bundle,
  };
  log(`\n== ${version} (${node})`);
  const contenders = {};
  const running = {};
  for (const contender of CONTENDERS) {
    if (only && !only.includes(contender.id)) continue;
    const entry = { label: contender.label, routes: {} };
    contenders[contender.id] = entry;
    if (contender.memcached && !services.memcachedPort) {
      entry.skipped = 'memcached is not installed';
      continue;
    }
    if (profile.includes(contender.id)) mkdirSync(profileDir, { recursive: true });
    const started = await startContender(node, contender, extraEnv, profile.includes(contender.id) ? profileDir : undefined);
    if (started.skip) {
      entry.skipped = started.skip;
      log(`note: ${contender.id} skipped: ${started.skip}`);
      continue;
    }
    running[contender.id] = started;
    const anon = await get(`http://127.0.0.1:${started.port}`, '/anon');
    if (anon.status !== 200) throw new Error(`${contender.id}: /anon answered ${anon.status}`);
    entry.anonSetsCookie = anon.cookies.length > 0;
  }
  const plan = CONTENDERS.filter((c) => running[c.id]).flatMap((c) =>
    (c.routes ?? ROUTES).filter((r) => !onlyRoutes || onlyRoutes.includes(r)).map((route) => ({ contender: c, route })),
  );
  try {
    if (config.warmup > 0) {
      log(`warm-up: ${plan.length} x ${config.warmup} s`);
      for (const { contender, route } of plan) await measure(contender, running[contender.id], route, services, config.warmup);
    }
    for (let round = 1; round <= config.rounds; round++) {
      log(`round ${round}/${config.rounds} (load average ${loadavg()[0].toFixed(2)})`);
      for (const { contender, route } of plan) {
        const result = await measure(contender, running[contender.id], route, services, config.seconds);
        ((contenders[contender.id].routes[route] ??= { rounds: [] }).rounds).push(result);
        const calls = result.redisCalls ?? result.memcachedCalls;
        const perReq = calls ? ` ${(Object.values(calls).reduce((a, b) => a + b, 0) / (result.sent ?? result.requests)).toFixed(2)} cmd/req` : '';
        log(`  ${contender.id.padEnd(16)} ${route.padEnd(5)} ${result.rps.toFixed(0).padStart(7)} req/s  p50 ${String(result.latencyP50).padStart(3)} ms  ${result.cpuPerRequestUs.toFixed(0).padStart(4)} µs CPU/req${perReq}`);
      }
    }
  } finally {
    await Promise.all(Object.values(running).map(stopContender));
  }
  for (const entry of Object.values(contenders)) {
    for (const stats of Object.values(entry.routes)) {
      stats.medianRps = median(stats.rounds.map((r) => r.rps));
      stats.medianP50 = median(stats.rounds.map((r) => r.latencyP50));
      stats.medianCpuUs = median(stats.rounds.map((r) => r.cpuPerRequestUs));
      stats.medianRedisCpuUs = median(stats.rounds.map((r) => r.redisCpuPerRequestUs));
      stats.redisPerRequest = perRequest(stats.rounds, 'redisCalls');
      stats.memcachedPerRequest = perRequest(stats.rounds, 'memcachedCalls');
    }
  }
  let memory;
  if (!only || only.includes('qs-memory')) {
    log(`memory store: ${config.sessions} sessions`);
    memory = await memoryCost(node, bundle);
  }
  return { node: version, path: node, contenders, ratios: ratios(contenders), memory };
}

async function main() {
  const started = Date.now();
  const loadAtStart = loadavg()[0];
  const bundle = await buildBundle();
  const nodes = await runtimes();
  const dir = mkdtempSync(join(tmpdir(), 'qsession-bench-'));
  const services = await startServices(dir);
  try {
    services.redisClient = createClient({ url: `redis://127.0.0.1:${services.redisPort}` });
    await services.redisClient.connect();
    const measurements = CONTENDERS.reduce((n, c) => n + (c.routes ?? ROUTES).length, 0);
    const estimate = nodes.length * measurements * (config.rounds * (config.seconds + 0.3) + config.warmup + 0.3) + nodes.length * (config.sessions / 1e6) * 60;
    log(`koa-qsession bench: ${nodes.length} runtime(s), ${config.rounds} round(s) x ${config.seconds} s, ${config.connections} connections; about ${Math.round(estimate / 60)} min on a quiet machine`);
    const results = [];
    for (const node of nodes) results.push(await benchRuntime(node, bundle, services));
    const out = env.BENCH_OUT ?? join(here, 'results.json');
    const document = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model, loadAverageAtStart: loadAtStart, loadAverageAtEnd: loadavg()[0] },
      config,
      smoke: config.rounds < 3 || config.seconds < 1,
      // Other work on the machine (a load average above the core count): absolute figures are off.
      busy: Math.max(loadAtStart, loadavg()[0]) > cpus().length,
      elapsedSeconds: Math.round((Date.now() - started) / 1000),
      runtimes: results,
    };
    writeFileSync(out, JSON.stringify(document, null, 2) + '\n');
    log(`\nwrote ${out} (${document.elapsedSeconds} s)`);
    if (!env.BENCH_OUT) writeReport(document);
  } finally {
    driver?.disconnect();
    await services.redisClient?.quit().catch(() => {});
    await services.stop();
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
