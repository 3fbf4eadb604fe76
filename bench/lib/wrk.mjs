// The load generator: wrk (Debian's `wrk` package), a C program in its own process, one thread by
// default, so it takes a small and known share of the machine (its CPU is read from the OS when it
// exits and reported per request). bench/wrk/load.lua formats the requests and prints the result.
import { execFileSync, spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_DIR } from './config.mjs';
import { cpuOfReapedChildren } from './proc.mjs';

const SCRIPT = join(BENCH_DIR, 'wrk/load.lua');
let files = 0;

/** wrk's path and version, or undefined when it is not installed. */
export function findWrk() {
  const path = process.env.BENCH_WRK || 'wrk';
  try {
    const banner = execFileSync(path, ['-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { path, version: banner.match(/wrk\s+(\S+)/)?.[1] ?? '?' };
  } catch (error) {
    // `wrk -v` prints its banner and exits with 1.
    const text = `${error.stdout ?? ''}${error.stderr ?? ''}`;
    const version = text.match(/wrk\s+(\S+)/)?.[1];
    return version ? { path, version } : undefined;
  }
}

/**
 * Runs wrk against `url` for `seconds` (whole seconds: wrk takes no fraction) with `connections`
 * connections over `threads` threads; `cookies`: none, one, or a pool taken in turn. Resolves with
 * counts, latencies (ms) and wrk's own CPU (µs, from the OS).
 */
export async function runWrk(wrk, { url, method = 'GET', connections, threads = 1, seconds, cookies = [] }) {
  const { origin, pathname, search } = new URL(url);
  const cookieFile = cookies.length ? join(tmpdir(), `qsession-bench-cookies-${process.pid}-${files++}.txt`) : '';
  if (cookieFile) writeFileSync(cookieFile, cookies.join('\n') + '\n');
  const cpuBefore = cpuOfReapedChildren();
  try {
    const args = ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--timeout', '5s', '-s', SCRIPT, origin, '--', method, pathname + search, cookieFile];
    const output = await new Promise((resolve, reject) => {
      const env = { ...process.env, BENCH_WRK_ROTATE: cookies.length > 1 ? '1' : '0' };
      const child = spawn(wrk.path, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk) => { out += chunk; });
      child.stderr.on('data', (chunk) => { err += chunk; });
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk exited with ${code}: ${err}${out}`))));
    });
    const line = output.split('\n').find((l) => l.startsWith('{"requests"'));
    if (!line) throw new Error(`wrk printed no result:\n${output}`);
    const r = JSON.parse(line);
    const duration = r.durationUs / 1e6;
    const socketErrors = r.connect + r.read + r.write + r.timeout;
    return {
      requests: r.requests,
      // wrk does not count the requests still unanswered when it stops; the server did their work too.
      sent: r.requests,
      duration,
      rps: r.requests / duration,
      ok: r.requests - r.status,
      non2xx: r.status,
      errors: socketErrors,
      latencyP50: r.p50 / 1000,
      latencyP99: r.p99 / 1000,
      loadGenCpuUs: cpuOfReapedChildren() - cpuBefore,
    };
  } finally {
    if (cookieFile) rmSync(cookieFile, { force: true });
  }
}
