// One contender server process: start it (it prints {"ready": port} or {"skip": why}), ask it for
// its CPU time (over IPC, between measurements), make its sessions through /setup, stop it.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { BENCH_DIR, ROOT } from './config.mjs';

/** Starts a contender on `node` (with `nodeArgs`); resolves with { child, port, base } or { skip }. */
export function startContender(node, contender, extraEnv, nodeArgs = []) {
  const args = [...nodeArgs, join(BENCH_DIR, 'contenders', contender.file)];
  const child = spawn(node, args, {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production', ...extraEnv, ...contender.env },
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
      else resolve({ child, port: message.ready, base: `http://127.0.0.1:${message.ready}` });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${contender.id} exited with ${code} before it was ready\n${stderr}`));
    });
  });
}

export function stopContender(running) {
  return new Promise((resolve) => {
    if (running.child.exitCode !== null) return resolve();
    running.child.once('exit', () => resolve());
    running.child.kill('SIGTERM');
    setTimeout(() => running.child.kill('SIGKILL'), 5000).unref();
  });
}

/** Asks the contender over IPC: 'cpu' (process.cpuUsage()) or 'heap' (process.memoryUsage() after gc). */
function ask(running, what) {
  return new Promise((resolve) => {
    const onMessage = (message) => {
      if (!message?.[what]) return;
      running.child.off('message', onMessage);
      resolve(message[what]);
    };
    running.child.on('message', onMessage);
    running.child.send(what);
  });
}

/** The contender's CPU time in µs (user + sys, all its threads). */
export async function contenderCpu(running) {
  const cpu = await ask(running, 'cpu');
  return cpu.user + cpu.system;
}

export const contenderHeap = (running) => ask(running, 'heap');

function cookiesOf(response) {
  return response.headers.getSetCookie().map((c) => c.split(';')[0]).filter((c) => !c.endsWith('='));
}

/** GET `path`, with `cookie` if given: { status, body, cookies (name=value pairs set) }. */
export async function get(base, path, cookie) {
  const response = await fetch(`${base}${path}`, { headers: cookie ? { cookie } : {} });
  return { status: response.status, body: await response.text(), cookies: cookiesOf(response) };
}

/** A new session holding sessionData(size, n), made by the contender itself; returns its Cookie header. */
export async function newSession(base, size, n) {
  const answer = await get(base, `/setup?size=${size}&n=${n}`);
  if (answer.status !== 200 || answer.cookies.length === 0) throw new Error(`${base}/setup answered ${answer.status} and no cookie`);
  return answer.cookies.join('; ');
}

/** `count` sessions of one payload: the pool the read and write routes rotate through. */
export async function sessionPool(base, size, count) {
  const cookies = [];
  for (let n = 0; n < count; n++) cookies.push(await newSession(base, size, n));
  return cookies;
}
