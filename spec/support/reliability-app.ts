import Koa from 'koa';
import { qsession, session, type QSessionMiddleware, type QSessionOptions } from 'koa-qsession';
import { serve, type Served } from './http.js';

/**
 * A Koa app for the reliability specs. Routes:
 * `/set?k=v`, `/del?k=name`, `/login?user=u` (regenerate, then sets `user`), `/logout` (destroy),
 * `/dump` (the session as JSON), `/slow-set?gate=g&k=v` and `/slow-del?gate=g&k=name` and
 * `/slow-read?gate=g` (each loads the session, then waits for `open(g)` before doing its work).
 * `entered(g)` resolves once a slow request holding gate `g` has its session loaded.
 */
export interface ReliabilityApp {
  readonly url: string;
  readonly sessions: QSessionMiddleware;
  /** How long each request spent in the session middleware and the handler, in ms, server-side. */
  readonly timings: number[];
  /**
   * Beside each timing: the CPU (ms) the process's main thread used meanwhile, this request's work and
   * whatever ran beside it. Tells a request slowed by work from one slowed by the machine (see
   * spec/reliability/hung-store.spec.ts).
   */
  readonly cpu: number[];
  entered(gate: string): Promise<void>;
  open(gate: string): void;
  close(): Promise<void>;
}

export async function startReliabilityApp(options: QSessionOptions): Promise<ReliabilityApp> {
  const app = new Koa();
  app.silent = true;
  const sessions = qsession(options);
  const gates = new Map<string, { entered: () => void; enteredP: Promise<void>; release: () => void; released: Promise<void> }>();
  const gate = (name: string) => {
    let entry = gates.get(name);
    if (!entry) {
      let entered!: () => void;
      let release!: () => void;
      const enteredP = new Promise<void>((resolve) => (entered = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      gates.set(name, (entry = { entered, enteredP, release, released }));
    }
    return entry;
  };
  const timings: number[] = [];
  const cpu: number[] = [];
  // Measured around the session middleware, so a loaded machine's HTTP client overhead is left out.
  app.use(async (_ctx, next) => {
    const started = performance.now();
    const cpuBefore = mainThreadCpu();
    try {
      await next();
    } finally {
      timings.push(performance.now() - started);
      const used = mainThreadCpu(cpuBefore);
      cpu.push((used.user + used.system) / 1000);
    }
  });
  app.use(sessions);
  app.use(async (ctx) => {
    const query = ctx.query as Record<string, string>;
    const { gate: gateName, ...rest } = query;
    if (ctx.path.startsWith('/slow-')) {
      const g = gate(gateName ?? '');
      g.entered();
      await g.released;
      gates.delete(gateName ?? '');
    }
    switch (ctx.path) {
      case '/set':
      case '/slow-set':
        for (const [key, value] of Object.entries(rest)) session.set(key, value);
        break;
      case '/del':
      case '/slow-del':
        session.delete(rest.k ?? '');
        break;
      case '/login':
        session.regenerate();
        session.user = rest.user;
        break;
      case '/logout':
        session.destroy();
        break;
      case '/dump':
      case '/slow-read':
        break;
      default:
        ctx.status = 404;
        return;
    }
    // The documented flag: the store could not be reached to load this session.
    if ((ctx.state as { sessionUnavailable?: boolean }).sessionUnavailable) ctx.set('x-session-unavailable', '1');
    ctx.body = JSON.stringify(session.toJSON());
  });
  const served: Served = await serve(app);
  return {
    url: served.url,
    sessions,
    timings,
    cpu,
    entered: (name) => gate(name).enteredP,
    open: (name) => gate(name).release(),
    async close() {
      await served.close();
      if (options.store === undefined) await sessions.close();
    },
  };
}

/**
 * The main thread's CPU usage (where the app, the library and the HTTP clients run): the process's
 * figure would count V8's compiler and GC threads too. Node 22.19+ has it; elsewhere the process's
 * figure, which only errs towards more.
 */
function mainThreadCpu(previous?: NodeJS.CpuUsage): NodeJS.CpuUsage {
  return process.threadCpuUsage ? process.threadCpuUsage(previous) : process.cpuUsage(previous);
}
