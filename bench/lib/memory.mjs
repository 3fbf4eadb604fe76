// The memory store's cost per session: a koa-qsession memory contender of its own, run with
// --expose-gc and a bound above BENCH_MEMORY_SESSIONS, is sent that many /setup requests (each makes
// a session holding the small payload); its heap after gc, before and after, gives bytes per session.
import { config } from './config.mjs';
import { CONTENDERS } from './contenders.mjs';
import { contenderHeap, startContender, stopContender } from './contender-process.mjs';
import { runDriver } from './measure.mjs';

export async function memoryCost(node, extraEnv) {
  const sessions = config.memorySessions;
  if (!sessions) return undefined;
  const contender = CONTENDERS.find((c) => c.id === 'qs-memory');
  const running = await startContender(node, contender, { ...extraEnv, BENCH_MAX_ENTRIES: String(sessions + 1000) }, ['--expose-gc']);
  try {
    const before = await contenderHeap(running);
    const started = performance.now();
    const result = await runDriver({ url: `${running.base}/setup?size=small&n=1`, connections: config.connections, amount: sessions });
    const seconds = (performance.now() - started) / 1000;
    const after = await contenderHeap(running);
    if (result.ok !== sessions) throw new Error(`memory measurement: ${result.ok} of ${sessions} /setup requests answered 2xx`);
    return {
      sessions,
      heapPerSessionBytes: (after.heapUsed - before.heapUsed) / sessions,
      heapUsedMiB: after.heapUsed / 2 ** 20,
      rssMiB: after.rss / 2 ** 20,
      createsPerSecond: sessions / seconds,
    };
  } finally {
    await stopContender(running);
  }
}
