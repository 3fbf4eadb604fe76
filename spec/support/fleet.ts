// A fleet: the app (spec/support/fleet-app.ts) run as a node:cluster primary with N workers on one
// port, as Koa apps run behind one store in production (node:cluster, PM2, replicas), for the specs
// that check what holds across processes. Usage:
//   const fleet = await startFleet({ workers: 2, variants: { plain: { redis: url }, bare: null } });
//   const browser = new Browser(fleet.base('plain'));
//   await browser.post('/set?cart=apple');
//   ...
//   await fleet.stop(); // always, in an after() hook
// The primary (fleet-primary.ts) is a child of the spec with an IPC channel: gates ('entered' /
// open) and the workers' counters travel over it. If the spec dies, the channel closes and the
// primary takes its workers down.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { FleetConfig, PrimaryToSpec, SpecToPrimary, WorkerStats } from './fleet-protocol.js';

export type { WorkerStats } from './fleet-protocol.js';

export interface FleetOptions extends FleetConfig {
  workers: number;
  /** Bound on the start-up (workers importing the library through tsx on a busy machine). */
  startTimeoutMs?: number;
}

export interface Fleet {
  readonly port: number;
  readonly pids: readonly number[];
  /** Variants whose qsession() threw at start-up (an option this code does not know), by name. */
  readonly startErrors: Readonly<Record<string, string>>;
  /** Workers that exited while the fleet ran (none should). */
  readonly deaths: ReadonlyArray<Extract<PrimaryToSpec, { type: 'exit' }>>;
  /** `http://127.0.0.1:<port>/v/<variant>`. */
  base(variant: string): string;
  /** Resolves with the worker's id once a slow request carrying `gate` (or `tag`) is in its handler. */
  entered(gate: string, timeoutMs?: number): Promise<number>;
  /** Opens `gate` in every worker: the slow requests holding it go on, and later ones pass. */
  open(gate: string): void;
  /** Every live worker's counters; `reset` zeroes them after reading. */
  stats(reset?: boolean): Promise<WorkerStats[]>;
  stop(): Promise<void>;
}

const PRIMARY = fileURLToPath(new URL('./fleet-primary.ts', import.meta.url));

export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const child: ChildProcess = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', PRIMARY], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, FLEET_WORKERS: String(options.workers), FLEET_CONFIG: JSON.stringify({ variants: options.variants }) },
  });
  const exited = once(child, 'exit');
  const deaths: Array<Extract<PrimaryToSpec, { type: 'exit' }>> = [];
  const entered = new Map<string, { promise: Promise<number>; resolve: (worker: number) => void }>();
  const enteredEntry = (gate: string) => {
    let entry = entered.get(gate);
    if (!entry) {
      let resolve!: (worker: number) => void;
      const promise = new Promise<number>((r) => (resolve = r));
      entered.set(gate, (entry = { promise, resolve }));
    }
    return entry;
  };
  const statsWaiters = new Map<number, (stats: WorkerStats[]) => void>();
  let nextId = 1;
  const send = (message: SpecToPrimary) => {
    if (child.connected) child.send(message);
  };

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    // The primary kills its workers before it exits; these are for a primary that was SIGKILLed.
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone, as it should be
      }
    }
  };

  let pids: number[] = [];
  const ready = new Promise<Extract<PrimaryToSpec, { type: 'ready' }>>((resolve, reject) => {
    child.on('message', (message: PrimaryToSpec) => {
      switch (message.type) {
        case 'ready':
          pids = message.pids;
          resolve(message);
          break;
        case 'failed':
          reject(new Error(`the fleet did not start: ${message.message}`));
          break;
        case 'entered':
          enteredEntry(message.gate).resolve(message.worker);
          break;
        case 'stats':
          statsWaiters.get(message.id)?.(message.stats);
          statsWaiters.delete(message.id);
          break;
        case 'exit':
          deaths.push(message);
          break;
      }
    });
    void exited.then(([code, signal]) => reject(new Error(`the fleet's primary exited (code ${code}, signal ${signal})`)));
  });
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  let started: Extract<PrimaryToSpec, { type: 'ready' }>;
  try {
    started = await Promise.race([
      ready,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the fleet did not start within ${timeoutMs} ms`)), timeoutMs))),
    ]);
  } catch (error) {
    await stop();
    throw error;
  } finally {
    clearTimeout(timer);
  }

  return {
    port: started.port,
    pids,
    startErrors: started.startErrors,
    deaths,
    base: (variant) => `http://127.0.0.1:${started.port}/v/${variant}`,
    entered(gate, waitMs = 10_000) {
      return withTimeout(enteredEntry(gate).promise, waitMs, `no request entered gate ${gate}`);
    },
    open: (gate) => send({ type: 'open', gate }),
    stats(reset = false) {
      const id = nextId++;
      const answer = new Promise<WorkerStats[]>((resolve) => statsWaiters.set(id, resolve));
      send({ type: 'stats', id, reset });
      return withTimeout(answer, 10_000, 'the workers did not answer stats');
    },
    stop,
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

export interface Answer {
  status: number;
  body: string;
  /** Which worker answered (x-worker). */
  worker: number;
  /** The name of an error thrown through the middleware (x-error), e.g. SessionConflictError. */
  error: string | undefined;
  /** The `session` cookie this answer set: its value, '' when cleared, undefined when untouched. */
  sessionCookie: string | undefined;
}

/**
 * A browser: a cookie jar (one host, one path) and a fresh connection per request (no keep-alive),
 * so that round-robin hands consecutive requests to different workers.
 */
export class Browser {
  readonly jar = new Map<string, string>();
  constructor(readonly base: string) {}

  get cookie(): string | undefined {
    return this.jar.get('session');
  }

  get(path: string, cookie?: string): Promise<Answer> {
    return this.send('GET', path, cookie);
  }

  post(path: string, cookie?: string): Promise<Answer> {
    return this.send('POST', path, cookie);
  }

  /** `cookie`: send this session id instead of the jar's (a request that left before the jar changed). */
  send(method: string, path: string, cookie?: string, timeoutMs = 20_000): Promise<Answer> {
    const header = cookie !== undefined ? `session=${cookie}` : [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    return new Promise((resolve, reject) => {
      const req = request(this.base + path, { method, agent: false, headers: header ? { cookie: header } : {} }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('error', reject);
        res.on('end', () => {
          let sessionCookie: string | undefined;
          for (const line of res.headers['set-cookie'] ?? []) {
            const value = this.remember(line);
            if (line.startsWith('session=')) sessionCookie = value;
          }
          const error = res.headers['x-error'];
          resolve({ status: res.statusCode ?? 0, body, worker: Number(res.headers['x-worker'] ?? 0), error: typeof error === 'string' ? error : undefined, sessionCookie });
        });
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
  }

  /** Applies one Set-Cookie line as a browser would; returns the value kept ('' when it was cleared). */
  private remember(line: string): string {
    const [pair = '', ...attributes] = line.split(';');
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const attr = new Map(attributes.map((a) => {
      const [k = '', ...v] = a.trim().split('=');
      return [k.toLowerCase(), v.join('=')] as const;
    }));
    const maxAge = attr.get('max-age');
    const expires = attr.get('expires');
    const cleared = value === '' || (maxAge !== undefined && Number(maxAge) <= 0) || (expires !== undefined && Date.parse(expires) <= Date.now());
    if (cleared) {
      this.jar.delete(name);
      return '';
    }
    this.jar.set(name, value);
    return value;
  }
}

/** Runs `n` copies of `request` at once; resolves with every answer (a transport error is a status-0 answer). */
export async function parallel(n: number, request: (i: number) => Promise<Answer>): Promise<Answer[]> {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      request(i).catch((error: Error) => ({ status: 0, body: error.message, worker: 0, error: 'transport', sessionCookie: undefined })),
    ),
  );
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
