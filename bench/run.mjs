// `npm run bench`: koa-qsession against bare Koa, the raw-Redis floor and its peers, each storing
// the same realistic session (bench/README.md says what is measured and how; lib/config.mjs reads
// the BENCH_* settings). Starts its own redis-server and memcached (scripts/servers.mjs), runs
// every contender in its own process on each Node line, drives them with wrk (or autocannon when wrk
// is missing) from another process, writes bench/results.json, then bench/report.mjs writes the
// results into bench/README.md (`--quick`: a short smoke run, written to bench/.quick/ instead).
// Both are rewritten after each Node line, so a run cut short keeps the lines that finished.
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildBundle } from './build.mjs';
import { ROOT, ROUTES, cases, config, onlyContenders, outFile, runtimes } from './lib/config.mjs';
import { sessionData } from './contenders/payload.mjs';
import { selected } from './lib/contenders.mjs';
import { loadGenerator, stopDriver } from './lib/measure.mjs';
import { benchRuntime } from './lib/runtime.mjs';
import { startServices } from './lib/services.mjs';
import { writeReport } from './report.mjs';

/** Rough minutes for the whole run on a quiet 2-core machine (the start-up figures are measured ones). */
function estimateMinutes(nodes) {
  const measurements = cases().reduce((n, kase) => n + selected(onlyContenders).filter((c) => (c.routes ?? ROUTES).includes(kase.route)).length, 0);
  const perRuntime = measurements * (config.rounds * (config.seconds + 0.3) + (config.warmup && config.warmup + 0.3)) + 20 + config.memorySessions / 3000;
  return (nodes.length * perRuntime) / 60;
}

/**
 * What was measured: the checkout's commit (with `+changes` when its src/ differs from it), or, when
 * BENCH_QSESSION_SRC bundles another copy, that path and the commit BENCH_QSESSION_COMMIT names.
 */
function sourceOf() {
  if (process.env.BENCH_QSESSION_SRC) return { commit: process.env.BENCH_QSESSION_COMMIT, bundled: process.env.BENCH_QSESSION_SRC };
  const git = (...args) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    return { commit: git('rev-parse', '--short', 'HEAD') + (git('status', '--porcelain', '--', 'src') ? '+changes' : ''), bundled: 'src/index.ts' };
  } catch {
    return { bundled: 'src/index.ts' };
  }
}

async function main() {
  const started = Date.now();
  const loadAtStart = loadavg()[0];
  const bundle = await buildBundle();
  const nodes = runtimes();
  const services = await startServices();
  try {
    console.error(
      `koa-qsession bench: ${nodes.length} runtime(s), ${config.rounds} round(s) x ${config.seconds} s, ${config.connections} connections, ` +
        `${config.pool} sessions per payload; about ${Math.ceil(estimateMinutes(nodes))} min on a quiet machine`,
    );
    const results = [];
    const write = (complete) => {
      const document = {
        date: new Date().toISOString(),
        machine: { cpus: cpus().length, model: cpus()[0]?.model, loadAverageAtStart: loadAtStart, loadAverageAtEnd: loadavg()[0] },
        config,
        payloadBytes: Object.fromEntries(config.payloads.map((p) => [p, Buffer.byteLength(JSON.stringify(sessionData(p, 0)))])),
        loadGenerator: loadGenerator.name,
        // What was measured: the commit checked out, and the source bundled (another checkout's with BENCH_QSESSION_SRC).
        source: sourceOf(),
        nodeClient: process.version,
        smoke: config.rounds < 3,
        // Other work on the machine (a load average above the core count): absolute figures are off.
        busy: Math.max(loadAtStart, loadavg()[0]) > cpus().length,
        elapsedSeconds: Math.round((Date.now() - started) / 1000),
        // Node lines asked for and not (yet) measured: a run cut short says so.
        missing: complete ? [] : nodes.slice(results.length),
        runtimes: results,
      };
      mkdirSync(dirname(outFile), { recursive: true });
      writeFileSync(outFile, JSON.stringify(document, null, 2) + '\n');
      writeReport(document, join(dirname(outFile), 'README.md'));
      return document;
    };
    for (const node of nodes) {
      results.push(await benchRuntime(node, bundle, services));
      if (results.length < nodes.length) write(false);
    }
    const document = write(true);
    console.error(`\nwrote ${outFile} (${document.elapsedSeconds} s)`);
  } finally {
    stopDriver();
    await services.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
