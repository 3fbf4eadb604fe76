// The bench's settings, all from the environment (bench/README.md lists them), and what follows from
// them: the cases to measure (route x payload) and the Node binaries to run the contenders on.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PAYLOADS } from '../contenders/payload.mjs';

export const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));
export const ROOT = join(BENCH_DIR, '..');
export const ROUTES = ['anon', 'read', 'write', 'hot', 'page'];
/** The routes measured on both payloads (`anon` has no session, `page` runs on the small one). */
const PAYLOAD_ROUTES = ['read', 'write', 'hot'];
/** The Node lines the bench runs on by default, when .runtimes/ holds them. */
export const NODE_LINES = ['node22', 'node24', 'node26'];

const env = process.env;
const num = (name, fallback) => (env[name] === undefined || env[name] === '' ? fallback : Number(env[name]));
const list = (name) => (env[name] ? env[name].split(',').map((s) => s.trim()).filter(Boolean) : undefined);

function payloads() {
  const wanted = env.BENCH_PAYLOAD || 'both';
  if (wanted === 'both') return PAYLOADS;
  if (!PAYLOADS.includes(wanted)) throw new Error(`BENCH_PAYLOAD=${wanted}: small, large or both`);
  return [wanted];
}

/** `--quick` (npm run bench:quick): a smoke check of every contender and route, its report in bench/.quick/. */
export const quick = process.argv.includes('--quick');

export const config = {
  rounds: num('BENCH_ROUNDS', quick ? 1 : 5),
  // Whole seconds: wrk takes no fraction.
  seconds: num('BENCH_SECONDS', 1),
  warmup: num('BENCH_WARMUP', quick ? 0 : 1),
  connections: num('BENCH_CONNECTIONS', 16),
  /** wrk's threads (`-t`): one keeps the load generator's share of a small machine small. */
  threads: num('BENCH_THREADS', 1),
  /** The parallel-read page: requests fired at once, on one session. */
  pageRequests: num('BENCH_PAGE_REQUESTS', 30),
  pool: num('BENCH_POOL', quick ? 50 : 200),
  payloads: payloads(),
  routes: list('BENCH_ROUTES') ?? ROUTES,
  memorySessions: num('BENCH_MEMORY_SESSIONS', quick ? 2000 : 50_000),
};
/** Contender ids named by BENCH_CONTENDERS (undefined: the default set). */
export const onlyContenders = list('BENCH_CONTENDERS');
/** Contender ids to run with --cpu-prof (profiles in bench/.profiles/). */
export const profiled = list('BENCH_PROFILE') ?? [];
/** The raw results; the report goes into the README.md beside them (bench/README.md by default). */
export const outFile = env.BENCH_OUT || join(BENCH_DIR, quick ? '.quick/results.json' : 'results.json');

for (const route of config.routes) if (!ROUTES.includes(route)) throw new Error(`BENCH_ROUTES: unknown route ${route} (${ROUTES.join(', ')})`);
if (!(config.pool >= 1)) throw new Error('BENCH_POOL must be at least 1');
for (const name of ['seconds', 'warmup']) {
  if (!Number.isInteger(config[name]) || config[name] < 0 || (name === 'seconds' && config[name] < 1)) {
    throw new Error(`BENCH_${name.toUpperCase()}: whole seconds (wrk takes no fraction), at least ${name === 'seconds' ? 1 : 0}`);
  }
}

/** What one measurement drives: a route, and for routes on a session the payload it holds. */
export function cases() {
  return config.routes.flatMap((route) => {
    if (route === 'anon') return [{ key: 'anon', route }];
    if (!PAYLOAD_ROUTES.includes(route)) return [{ key: route, route, payload: 'small' }];
    return config.payloads.map((payload) => ({ key: `${route}/${payload}`, route, payload }));
  });
}

/**
 * BENCH_NODE; else, for `--quick`, the node running this; else every Node line of NODE_LINES
 * installed in .runtimes/, else the node running this.
 */
export function runtimes() {
  const explicit = list('BENCH_NODE');
  if (explicit) return explicit;
  if (quick) return [process.execPath];
  const found = NODE_LINES.map((name) => join(ROOT, '.runtimes/node_modules', name, 'bin/node')).filter(existsSync);
  if (found.length > 0) return found;
  console.error(`note: none of ${NODE_LINES.join(', ')} in .runtimes/ (npm run runtimes installs them); running on this Node only`);
  return [process.execPath];
}

export function versionOf(node) {
  return execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
}
