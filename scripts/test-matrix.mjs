// The matrix: type-check once, then the specs on each runtime named (default: all of them, Node
// 22, 24, 26 and Bun), one after another (CI has two cores). Missing runtimes are installed from
// npm first (scripts/runtimes.mjs). Exits non-zero if any runtime failed.
//
//   npm run test:matrix                                  the whole suite on every Node line, Bun's part on Bun
//   npm run test:matrix -- node24 bun                    only those runtimes
//   npm run test:matrix -- --runtime-sensitive node22 node26
//                                                        on those Node lines, only RUNTIME_SPECS
//
// RUNTIME_SPECS (override: QSESSION_RUNTIME_SPECS, comma separated) are the specs whose outcome can
// differ between Node lines: AsyncLocalStorage and Koa's storage (spec/runtime), the request
// lifecycle and the middleware (spec/core, spec/koa), the serializers (Buffer, v8, JSON details, the
// engine's own JSON.parse: spec/serializers/runtime-json*, issue 23),
// the memory, Redis and filesystem stores (timers, sockets, fs), the app run as a node:cluster fleet
// (spec/reliability/fleet: cluster scheduling and IPC are the runtime's), and the packed tarball as users load it. The rest
// (option parsing, docs, browsers, fuzzing, the other stores' fault drills) is runtime-independent
// in what it tests and runs once, on the line CI runs in full.
//
// Bun runs the specs whose path contains one of BUN_SPECS (override: QSESSION_BUN_SPECS): the store
// contracts, the lifecycle, Bun's own Redis store, the runtime checks, the guard against runtime
// JSON.parse defects (spec/serializers/runtime-json*) and the packed tarball. The rest either test
// Node-only APIs or add nothing on a second runtime.
import { spawnSync } from 'node:child_process';
import { ensureRuntimes, RUNTIME_VERSIONS } from './runtimes.mjs';

const BUN_SPECS = (process.env.QSESSION_BUN_SPECS ?? 'spec/stores/,spec/bun/,spec/runtime/,lifecycle,spec/serializers/runtime-json,spec/package/').split(',');
// Substrings of spec paths; 'spec/koa' also matches spec/koa2.spec.ts (Koa 2), which belongs here.
const RUNTIME_SPECS = (
  process.env.QSESSION_RUNTIME_SPECS ??
  'spec/runtime/,spec/core/,spec/koa,middleware,lifecycle,session.spec,spec/serializers/,spec/stores/memory,spec/stores/redis.spec,spec/stores/filesystem,spec/reliability/fleet,spec/package/'
).split(',');

const args = process.argv.slice(2);
const runtimeSensitive = args.includes('--runtime-sensitive');
const names = args.filter((arg) => arg !== '--runtime-sensitive');
const wanted = names.length > 0 ? names : Object.keys(RUNTIME_VERSIONS);
const runtimes = ensureRuntimes(wanted);

const run = (command, args, env = {}) =>
  spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, ...env } }).status === 0;

if (!run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--noEmit'])) {
  console.error('matrix: type check failed');
  process.exit(1);
}

const results = [];
for (const name of wanted) {
  const started = Date.now();
  console.log(`\n=== ${name} (${runtimes[name]}) ===`);
  const filters = name === 'bun' ? BUN_SPECS : runtimeSensitive ? RUNTIME_SPECS : [];
  // Bun is handed to the spawned specs too, so Node runs can start the example app on it.
  const ok = run(process.execPath, ['scripts/test.mjs', ...filters], { QSESSION_TEST_NODE: runtimes[name], QSESSION_BUN: runtimes.bun ?? '' });
  results.push({ name, ok, seconds: Math.round((Date.now() - started) / 1000) });
}

// The peer range takes node-redis 5 and 6: the runs above drive 5 (`redis`); the Redis store's specs
// (standalone, Cluster, Sentinel, faults, ready()) run once more on 6 (the `redis-v6` alias, switched in
// spec/support/redis-driver.ts), on the first Node line named (Bun has no module.registerHooks).
const redis6On = wanted.find((name) => name !== 'bun');
if (redis6On) {
  const started = Date.now();
  console.log(`\n=== ${redis6On} + node-redis 6 (${runtimes[redis6On]}) ===`);
  const ok = run(process.execPath, ['scripts/test.mjs', 'spec/stores/redis', 'spec/stores/ready'], { QSESSION_TEST_NODE: runtimes[redis6On], QSESSION_REDIS_MAJOR: '6' });
  results.push({ name: `${redis6On} + node-redis 6`, ok, seconds: Math.round((Date.now() - started) / 1000) });
}

console.log('\n=== matrix ===');
for (const { name, ok, seconds } of results) console.log(`${ok ? 'ok  ' : 'FAIL'} ${name} (${seconds} s)`);
const failed = results.filter((r) => !r.ok).length;
console.log(`runtimes: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
