// Throwaway servers, shared by the specs (spec/support/*.ts) and the bench (bench/lib/services.mjs):
// a free loopback port, a temp directory, a process that is ready once its port accepts
// connections, and redis-server / memcached started that way. Plain JavaScript so the bench runs it
// without a TypeScript loader; the types are in servers.d.mts. The machine's own Redis (6379) and
// memcached (11211) are never used. Nothing here installs anything: scripts/install-system-deps.sh
// does (npm's pretest and .ci/run call it).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const HOST = '127.0.0.1';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The servers this process started and has not stopped. They die with it, also when it is ended by a
// signal (a bench cut short with Ctrl-C, a spec file the runner cancels): left behind, they would
// live on as orphans holding ports and memory.
const running = new Set();
const killRunning = () => {
  for (const child of running) child.kill('SIGKILL');
};
let hooked = false;
function killOnExit() {
  if (hooked) return;
  hooked = true;
  process.once('exit', killRunning);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => {
      killRunning();
      process.kill(process.pid, signal); // the handler is gone: the signal's own default, exit
    });
  }
}

/** @returns {Promise<number>} a port nobody listens on right now (the OS picks it) */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A fresh temp directory, removed by the returned function. */
export function tempDir(prefix) {
  const path = mkdtempSync(join(tmpdir(), `qsession-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true, maxRetries: 3 }) };
}

/** Resolves once something accepts TCP connections on the port, or rejects after `timeoutMs`. */
export async function waitForPort(port, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise((resolve) => {
      const socket = connect(port, HOST);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listened on port ${port} within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/**
 * Starts a server process that listens on `port` and waits until it accepts connections. Its
 * output is kept (`output()`) and shown if it dies before it is ready. `env` is added to this
 * process's environment; `readyTimeoutMs` bounds the wait for the port (default 10 s).
 */
export async function startServer(command, args, port, options = {}) {
  const env = options.env ? { ...process.env, ...options.env } : undefined;
  const child = spawn(command, args, { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit();
  running.add(child);
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk) => (output += chunk.toString()));
  const exited = new Promise((resolve) => child.once('exit', () => resolve()));
  exited.then(() => running.delete(child));
  const spawnFailed = new Promise((_, reject) => child.once('error', (error) => reject(new Error(`${command}: ${error.message}`))));
  const died = exited.then(() => {
    throw new Error(`${command} exited before it was ready:\n${output}`);
  });
  try {
    await Promise.race([waitForPort(port, options.readyTimeoutMs), died, spawnFailed]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    died.catch(() => undefined);
    spawnFailed.catch(() => undefined);
  }
  return {
    port,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Sends a text-protocol `command` over a fresh connection and resolves with the reply once
 * `complete(reply)` says it is whole (Redis `PING`, memcached `stats`, `mg`, ...).
 */
export function askTcp(port, command, complete) {
  return new Promise((resolve, reject) => {
    const socket = connect(port, HOST);
    let reply = '';
    socket.setEncoding('utf8');
    socket.once('error', reject);
    socket.on('data', (chunk) => {
      reply += chunk;
      if (complete(reply)) {
        socket.end();
        resolve(reply);
      }
    });
    socket.write(command);
  });
}

/** redis-server's arguments: loopback only, no persistence, its files in `dir`. */
export function redisArgs(port, dir, extra = []) {
  return ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir, ...extra];
}

/**
 * A redis-server on a free port (or `port`), its files in `dir`; `args(port)` adds arguments
 * (cluster mode, `--replicaof`, ...). `restart()` starts it again on the same port after `stop()`.
 */
export async function startRedis({ dir, port, args = () => [] }) {
  const chosen = port ?? (await freePort());
  const argv = redisArgs(chosen, dir, args(chosen));
  let proc = await startServer('redis-server', argv, chosen);
  return {
    port: chosen,
    url: `redis://${HOST}:${chosen}`,
    get child() {
      return proc.child;
    },
    stop: () => proc.stop(),
    async restart() {
      proc = await startServer('redis-server', argv, chosen);
    },
  };
}

const MEMCACHED = '/usr/bin/memcached';

/** The memcached binary; fails loudly when it is missing (these specs never skip silently). */
export function memcachedBinary() {
  if (existsSync(MEMCACHED)) return MEMCACHED;
  throw new Error(`memcached is not installed (${MEMCACHED} missing): run bash scripts/install-system-deps.sh (as root), or apt-get install -y memcached`);
}

/**
 * A memcached on a free port (or `port`): `memoryMb` of cache (64), `itemSize` like `-I 1m`,
 * `threads` worker threads (memcached's default 4). `restart()` gives a new, empty one on the same port.
 */
export async function startMemcached(options = {}) {
  const binary = memcachedBinary();
  const port = options.port ?? (await freePort());
  const args = ['-p', String(port), '-U', '0', '-l', HOST, '-m', String(options.memoryMb ?? 64)];
  // memcached refuses to run as root without -u.
  if (process.getuid?.() === 0) args.push('-u', 'root');
  if (options.itemSize) args.push('-I', options.itemSize);
  if (options.threads) args.push('-t', String(options.threads));
  const server = await startServer(binary, args, port);
  return { ...server, address: `${HOST}:${port}`, restart: () => startMemcached({ ...options, port }) };
}
