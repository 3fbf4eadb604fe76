// The memory store's cost: run with --expose-gc. Creates BENCH_SESSIONS sessions (default 1e6)
// through the real lifecycle (fresh id, one value set, commit -> MemoryStore.create) with
// memory.maxEntries = BENCH_MAX_ENTRIES, then reports heapUsed growth per session kept and RSS.
// Prints one JSON line.
if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');
const { qsession, MemoryStore } = await import(process.env.BENCH_QSESSION_BUNDLE);

const sessions = Number(process.env.BENCH_SESSIONS ?? 1_000_000);
const maxEntries = Number(process.env.BENCH_MAX_ENTRIES ?? sessions);
const settle = () => { for (let i = 0; i < 3; i++) globalThis.gc(); };

const store = new MemoryStore({ maxEntries });
const { lifecycle } = qsession({ store });
settle();
const before = process.memoryUsage();
const started = performance.now();
const outcome = { failed: false, isStatic: false };
for (let i = 0; i < sessions; i++) {
  const record = lifecycle.open(undefined);
  record.session.counter = i;
  await lifecycle.commit(record, outcome);
}
const elapsedMs = performance.now() - started;
settle();
const after = process.memoryUsage();
if (store.size !== Math.min(sessions, maxEntries)) throw new Error(`store holds ${store.size} sessions`);
process.stdout.write(JSON.stringify({
  node: process.version,
  sessions,
  maxEntries,
  kept: store.size,
  heapPerSessionBytes: (after.heapUsed - before.heapUsed) / store.size,
  heapUsedMiB: after.heapUsed / 2 ** 20,
  rssMiB: after.rss / 2 ** 20,
  rssBeforeMiB: before.rss / 2 ** 20,
  createsPerSecond: sessions / (elapsedMs / 1000),
}) + '\n');
