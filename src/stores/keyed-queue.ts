/**
 * Per-key serialisation inside this process: `run(key, work)` starts `work` once every earlier
 * `run` of the same key has settled (resolved or rejected); different keys never wait for each
 * other. Used by the foreign-store adapters (their read-then-write pairs, which have no
 * compare-and-set) and by the filesystem store's lock (so at most one caller per file polls it).
 *
 * `holdMs`: the longest one call may hold up the next of its key. A store call that never answers
 * must not wedge its key for good; past `holdMs` the next call in line runs anyway (the core has long
 * since answered the waiting request with its `storeTimeout` error). Without it, the queue waits for
 * each call to settle, however long.
 *
 * A key's entry is dropped once its last call is through, so the map holds only keys in use.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();

  constructor(private readonly holdMs?: number) {}

  /** Keys with a call queued or running. */
  get size(): number {
    return this.tails.size;
  }

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(work);
    const settled = result.then(noop, noop);
    const tail = this.holdMs === undefined ? settled : held(settled, this.holdMs);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}

function noop(): void {}

/** `settled`, or `holdMs` from now, whichever comes first; the timer never keeps the process alive. */
function held(settled: Promise<void>, holdMs: number): Promise<void> {
  return new Promise<void>((release) => {
    const timer = setTimeout(release, holdMs);
    timer.unref?.();
    void settled.then(() => {
      clearTimeout(timer);
      release();
    });
  });
}
