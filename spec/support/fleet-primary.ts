// The cluster primary of a fleet (spec/support/fleet.ts starts it with an IPC channel): forks
// FLEET_WORKERS workers running fleet-app.ts with round-robin scheduling, says 'ready' with their
// shared port once all listen, relays the spec's messages to every worker and theirs back, reports
// any worker that exits, and takes every worker down with it (on SIGTERM, or when the spec's
// channel closes: a spec that dies leaves no process behind).
import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { PrimaryToSpec, SpecToPrimary, WorkerStats, WorkerToPrimary } from './fleet-protocol.js';

// Set before the first fork: the primary accepts connections and hands them to the workers in turn
// (the default on Linux, stated so that consecutive connections reach different workers).
cluster.schedulingPolicy = cluster.SCHED_RR;
cluster.setupPrimary({
  exec: fileURLToPath(new URL('./fleet-app.ts', import.meta.url)),
  // Workers import koa-qsession from src, as the spec runner does.
  execArgv: ['--conditions=source', '--import', 'tsx'],
});

const count = Number(process.env.FLEET_WORKERS ?? 2);
const tell = (message: PrimaryToSpec) => process.send?.(message);
const workers: Worker[] = [];
const listening = new Map<number, Extract<WorkerToPrimary, { type: 'listening' }>>();
const pending = new Map<number, WorkerStats[]>();
let stopping = false;

for (let i = 0; i < count; i++) {
  const worker = cluster.fork({ FLEET_CONFIG: process.env.FLEET_CONFIG ?? '{}' });
  workers.push(worker);
  worker.on('message', (message: WorkerToPrimary) => {
    if (message.type === 'listening') {
      listening.set(message.worker, message);
      if (listening.size === count) {
        tell({ type: 'ready', port: message.port, pids: workers.map((w) => w.process.pid ?? 0), startErrors: message.startErrors });
      }
    } else if (message.type === 'entered') tell(message);
    else if (message.type === 'stats') {
      const replies = pending.get(message.id);
      if (!replies) return;
      replies.push(message.stats);
      if (replies.length === live().length) {
        pending.delete(message.id);
        tell({ type: 'stats', id: message.id, stats: replies.sort((a, b) => a.worker - b.worker) });
      }
    }
  });
  worker.on('exit', (code, signal) => {
    if (stopping) return;
    tell({ type: 'exit', worker: worker.id, pid: worker.process.pid ?? 0, code, signal });
    if (listening.size < count) tell({ type: 'failed', message: `worker ${worker.id} exited before listening (code ${code}, signal ${signal})` });
  });
}

const live = () => workers.filter((w) => !w.isDead());

process.on('message', (message: SpecToPrimary) => {
  if (message.type === 'stats') pending.set(message.id, []);
  for (const worker of live()) worker.send(message);
});

function stop(): void {
  if (stopping) return;
  stopping = true;
  for (const worker of live()) worker.process.kill('SIGTERM');
  const deadline = setTimeout(() => {
    for (const worker of live()) worker.process.kill('SIGKILL');
    process.exit(0);
  }, 3000);
  const check = setInterval(() => {
    if (live().length > 0) return;
    clearInterval(check);
    clearTimeout(deadline);
    process.exit(0);
  }, 20);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
