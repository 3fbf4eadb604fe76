// One worker of a fleet (spec/support/fleet.ts): a Koa app with koa-qsession, run by
// spec/support/fleet-primary.ts as a node:cluster worker. Its config (JSON in FLEET_CONFIG) names
// variants, each a set of qsession options (or null: bare Koa, no session; `notWriters: ['/logout']`
// takes routes out of the default isWriter); a request picks one by its path, `/v/<variant>/<route>`. Routes (query parameters in brackets):
//   GET  /dump                      the session as JSON
//   GET  /read [ms]                 reads `cart`, awaits ms (a DB call); counts handlers in flight
//   GET  /slow-read [gate | ms, tag]
//   POST /set [k=v...]              sets every pair
//   POST /slow-set [gate | ms, tag] [k=v...]
//   POST /incr [ms]                 count = count + 1, awaiting ms between the read and the write (0: no await)
//   POST /login [user]              regenerate, then sets `user`
//   POST /logout                    destroy
// Slow routes load the session, tell the primary they entered (`gate` or `tag`), then wait for the
// gate to be opened (`gate`; it stays open, so a gate can hold many requests) or for `ms`. Every answer carries `x-worker`; an error thrown through
// the middleware is answered with its status and `x-error: <name>` (the specs tell a 409
// SessionConflictError from a 500 by it). The primary asks for counters over IPC ('stats').
import cluster from 'node:cluster';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import Koa from 'koa';
import { qsession, session, type QSessionMiddleware, type QSessionOptions } from 'koa-qsession';
import type { FleetConfig, PrimaryToWorker, WorkerStats, WorkerToPrimary } from './fleet-protocol.js';

const config = JSON.parse(process.env.FLEET_CONFIG ?? '{}') as FleetConfig;
const workerId = cluster.worker?.id ?? 0;
const send = (message: WorkerToPrimary) => process.send?.(message);

function freshStats(): WorkerStats {
  return { worker: workerId, pid: process.pid, requests: 0, errors: {}, conflicts: 0, conflictKeys: [], resolutions: {}, warnings: [], storeErrors: 0, inFlight: {}, maxInFlight: {} };
}
let stats = freshStats();

// Variants: one middleware each. One that fails to start (an option today's code does not know)
// answers 500 with its error rather than taking the whole worker down, so the other variants' specs run.
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const variants = new Map<string, { sessions: QSessionMiddleware | null; startError?: string }>();
for (const [name, options] of Object.entries(config.variants ?? {})) {
  if (options === null) {
    variants.set(name, { sessions: null });
    continue;
  }
  try {
    // `notWriters`: routes taken out of the default `isWriter` (a function cannot travel as JSON).
    const { notWriters, ...rest } = options as QSessionOptions & { notWriters?: string[] };
    const qsessionOptions: QSessionOptions = { ...rest };
    if (notWriters) qsessionOptions.isWriter = (ctx) => !SAFE_METHODS.has(ctx.method) && !notWriters.includes(String(ctx.state.route));
    const sessions = qsession(qsessionOptions);
    // 'conflict' is newer than this worker's typed event map may be: listen through the plain emitter.
    const events = sessions.events as unknown as EventEmitter;
    events.on('conflict', (event: { keys?: string[]; resolution?: string }) => {
      stats.conflicts++;
      const resolution = String(event.resolution);
      stats.resolutions[resolution] = (stats.resolutions[resolution] ?? 0) + 1;
      if (stats.conflictKeys.length < 20) stats.conflictKeys.push(...(event.keys ?? []).slice(0, 5));
    });
    events.on('warning', (event: { message: string }) => {
      if (stats.warnings.length < 20) stats.warnings.push(event.message);
    });
    events.on('store-error', () => void stats.storeErrors++);
    variants.set(name, { sessions });
  } catch (error) {
    variants.set(name, { sessions: null, startError: `${(error as Error).name}: ${(error as Error).message}` });
  }
}

const gates = new Map<string, { open: () => void; opened: Promise<void> }>();
function gate(name: string) {
  let entry = gates.get(name);
  if (!entry) {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    gates.set(name, (entry = { open, opened }));
  }
  return entry;
}

process.on('message', (message: PrimaryToWorker) => {
  if (message.type === 'open') gate(message.gate).open();
  else if (message.type === 'stats') {
    send({ type: 'stats', id: message.id, stats });
    if (message.reset) {
      const inFlight = stats.inFlight;
      stats = freshStats();
      stats.inFlight = inFlight;
    }
  }
});

function track(key: string, delta: 1 | -1): void {
  const now = (stats.inFlight[key] ?? 0) + delta;
  stats.inFlight[key] = now;
  if (now > (stats.maxInFlight[key] ?? 0)) stats.maxInFlight[key] = now;
}

const app = new Koa();
app.silent = true;

app.use(async (ctx, next) => {
  ctx.set('x-worker', String(workerId));
  stats.requests++;
  try {
    await next();
  } catch (error) {
    const { name = 'Error', message = String(error), status } = error as { name?: string; message?: string; status?: number };
    stats.errors[name] = (stats.errors[name] ?? 0) + 1;
    ctx.status = typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
    ctx.set('x-error', name);
    ctx.body = JSON.stringify({ error: name, message });
  }
});

app.use(async (ctx, next) => {
  const match = /^\/v\/([^/]+)(\/.*)$/.exec(ctx.path);
  const variant = match ? variants.get(match[1]!) : undefined;
  if (!match || !variant) {
    ctx.status = 404;
    return;
  }
  if (variant.startError !== undefined) throw new Error(`variant ${match[1]} did not start: ${variant.startError}`);
  ctx.state.variant = match[1];
  ctx.state.route = match[2];
  if (variant.sessions === null) {
    // Bare Koa: the same page without sessions, for the page-time comparison.
    if (ctx.state.route !== '/read') throw new Error('bare variants answer /read only');
    await read(ctx);
    ctx.body = 'ok';
    return;
  }
  await variant.sessions(ctx, next);
});

async function read(ctx: Koa.Context): Promise<void> {
  const key = `${String(ctx.state.variant)}/read`;
  track(key, 1);
  try {
    await sleep(Number(ctx.query.ms ?? 5));
  } finally {
    track(key, -1);
  }
}

app.use(async (ctx) => {
  const { gate: gateName, ms, tag, ...rest } = ctx.query as Record<string, string>;
  const route = String(ctx.state.route);
  if (route.startsWith('/slow-')) {
    // The session is loaded by now (the middleware ran before this handler).
    const name = gateName ?? tag;
    if (name !== undefined) send({ type: 'entered', gate: name, worker: workerId });
    if (gateName !== undefined) {
      // An opened gate stays open: every request holding it goes on, those that arrive later too.
      await gate(gateName).opened;
    } else await sleep(Number(ms ?? 0));
  }
  switch (route) {
    case '/read':
      session.get('cart');
      await read(ctx);
      break;
    case '/dump':
    case '/slow-read':
      break;
    case '/set':
    case '/slow-set':
      for (const [key, value] of Object.entries(rest)) session.set(key, value);
      break;
    case '/incr': {
      const count = Number(session.get('count') ?? 0);
      // ms=0: no await at all, so the writers queued in a worker finish in one turn of its event loop.
      const wait = Number(ms ?? 2);
      if (wait > 0) await sleep(wait);
      session.set('count', count + 1);
      ctx.body = String(count + 1);
      return;
    }
    case '/login':
      session.regenerate();
      session.set('user', rest.user ?? 'ann');
      break;
    case '/logout':
      session.destroy();
      break;
    default:
      ctx.status = 404;
      return;
  }
  ctx.body = JSON.stringify(session.toJSON());
});

const server = app.listen(0, '127.0.0.1', () => {
  const starts: Record<string, string> = {};
  for (const [name, variant] of variants) if (variant.startError !== undefined) starts[name] = variant.startError;
  send({ type: 'listening', worker: workerId, port: (server.address() as AddressInfo).port, startErrors: starts });
});
server.keepAliveTimeout = 100;
