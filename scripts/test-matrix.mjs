// The whole matrix: type-check once, then the suite on Node 20, on Node 24 and (the parts that
// apply) on Bun, one after another (CI has two cores). Missing runtimes are installed from npm
// first (scripts/runtimes.mjs). Exits non-zero if any runtime failed.
//
//   npm run test:matrix                 everything
//   npm run test:matrix -- node24 bun   only those runtimes
//
// Bun runs the specs whose path contains one of BUN_SPECS (override: QSESSION_BUN_SPECS, comma
// separated): the store contracts, the lifecycle, Bun's own Redis store and the runtime checks.
// The rest either test Node-only APIs or add nothing on a second runtime.
import { spawnSync } from 'node:child_process';
import { ensureRuntimes, RUNTIME_VERSIONS } from './runtimes.mjs';

const BUN_SPECS = (process.env.QSESSION_BUN_SPECS ?? 'spec/stores/,spec/bun/,spec/runtime/,lifecycle').split(',');

const wanted = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(RUNTIME_VERSIONS);
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
  const filters = name === 'bun' ? BUN_SPECS : [];
  // Bun is handed to the spawned specs too, so Node runs can start the example app on it.
  const ok = run(process.execPath, ['scripts/test.mjs', ...filters], { QSESSION_TEST_NODE: runtimes[name], QSESSION_BUN: runtimes.bun ?? '' });
  results.push({ name, ok, seconds: Math.round((Date.now() - started) / 1000) });
}

console.log('\n=== matrix ===');
for (const { name, ok, seconds } of results) console.log(`${ok ? 'ok  ' : 'FAIL'} ${name} (${seconds} s)`);
const failed = results.filter((r) => !r.ok).length;
console.log(`runtimes: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
