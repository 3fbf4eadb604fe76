import { SessionStoreError } from '../errors.js';
import { debug, debugEnabled } from './debug.js';

/**
 * What one request has spent waiting on the store so far. `storeTimeout` bounds the total of a
 * request's store calls (load, save, retiring old ids, the user index), not each call: a read that
 * took 900 ms of a 1000 ms budget leaves 100 ms for the write after it, so a hung store costs a
 * request `storeTimeout` once. The lifecycle makes one per request and hands it to every call.
 */
export class StoreBudget {
  spentMs = 0;
}

/**
 * Runs one store operation, bounded by what is left of `budget` (the whole timeout without one),
 * failing only with `SessionStoreError`.
 */
export type StoreCall = <T>(operation: string, call: Promise<T>, budget?: StoreBudget) => Promise<T>;

/** A call in flight: settled by its store, or rejected when its deadline passes first. */
interface Pending {
  readonly deadline: number;
  readonly operation: string;
  readonly limit: number;
  /** The request's budget, charged when the call settles (in full when it times out). */
  readonly budget: StoreBudget | undefined;
  readonly started: number;
  reject: ((error: SessionStoreError) => void) | undefined;
}

/**
 * Every store call goes through here: a store that hangs (a reconnecting client, a dead server)
 * must never hang a request, and whatever a backend throws reaches the app as one typed error.
 *
 * One timer serves every call of this guard (a timer per call was a measurable share of a read
 * request's CPU). Pending calls are kept in deadline order; most calls get the whole timeout, so a
 * new deadline nearly always goes at the end, and a call with a partly spent budget is inserted in
 * its place (the timer is re-armed when it becomes the earliest).
 */
export function boundedStoreCall(storeName: string, timeoutMs: number): StoreCall {
  const bounded = sharedTimer(storeName, timeoutMs);
  return debugEnabled ? timed(storeName, bounded) : bounded;
}

function sharedTimer(storeName: string, timeoutMs: number): StoreCall {
  const queue: Pending[] = [];
  let head = 0;
  let timer: NodeJS.Timeout | undefined;
  let armedFor = Infinity;
  let inFlight = 0;

  const expire = (): void => {
    timer = undefined;
    armedFor = Infinity;
    const now = Date.now();
    while (head < queue.length) {
      const entry = queue[head]!;
      if (entry.reject !== undefined) {
        if (entry.deadline > now) break;
        const reject = entry.reject;
        entry.reject = undefined;
        inFlight--;
        if (entry.budget) entry.budget.spentMs = timeoutMs;
        reject(new SessionStoreError(entry.operation, `${storeName} did not answer within ${Math.ceil(entry.limit)} ms`));
      }
      head++;
    }
    if (head === queue.length) {
      queue.length = 0;
      head = 0;
      return;
    }
    if (head > 1024) {
      // Under steady load the queue never empties: drop what is behind the head now and then.
      queue.splice(0, head);
      head = 0;
    }
    arm(queue[head]!.deadline, now);
  };

  const arm = (deadline: number, now: number): void => {
    if (timer !== undefined) clearTimeout(timer);
    armedFor = deadline;
    timer = setTimeout(expire, Math.max(0, deadline - now));
  };

  /** Inserts in deadline order, scanning from the end (where nearly every call belongs). */
  const enqueue = (entry: Pending): void => {
    let at = queue.length;
    while (at > head && queue[at - 1]!.deadline > entry.deadline) at--;
    if (at === queue.length) queue.push(entry);
    else queue.splice(at, 0, entry);
  };

  return <T>(operation: string, call: Promise<T>, budget?: StoreBudget) => {
    const limit = budget ? timeoutMs - budget.spentMs : timeoutMs;
    if (limit <= 0) {
      call.catch(() => undefined); // the store may still answer or fail; nobody is waiting for it
      return Promise.reject(new SessionStoreError(operation, `${storeName}: this request already waited its storeTimeout of ${timeoutMs} ms on the store`));
    }
    return new Promise<T>((resolve, reject) => {
      const now = Date.now();
      const entry: Pending = { deadline: now + limit, operation, limit, budget, started: budget ? performance.now() : 0, reject };
      enqueue(entry);
      inFlight++;
      if (entry.deadline < armedFor) arm(entry.deadline, now);
      else if (inFlight === 1) timer?.ref();
      call.then(
        (value) => {
          if (done(entry)) resolve(value);
        },
        (error: unknown) => {
          if (done(entry)) reject(error instanceof SessionStoreError ? error : new SessionStoreError(operation, `${storeName}: ${messageOf(error)}`, { cause: error }));
        },
      );
    });
  };

  /** The store answered: false when the call had already timed out (and was charged in full). */
  function done(entry: Pending): boolean {
    if (entry.reject === undefined) return false;
    entry.reject = undefined;
    if (entry.budget) entry.budget.spentMs += performance.now() - entry.started;
    if (--inFlight === 0) timer?.unref(); // an idle guard keeps no process alive
    return true;
  }
}

/** With debug logging on: every store call's duration and outcome (the key, which holds the id, never). */
function timed(storeName: string, call: StoreCall): StoreCall {
  return <T>(operation: string, pending: Promise<T>, budget?: StoreBudget) => {
    const started = performance.now();
    const done = (outcome: string) => debug('store %s %s: %s in %s ms', storeName, operation, outcome, (performance.now() - started).toFixed(1));
    return call(operation, pending, budget).then(
      (value) => {
        done(value === null ? 'ok (nothing)' : 'ok');
        return value;
      },
      (error: unknown) => {
        done(`failed (${messageOf(error)})`);
        throw error;
      },
    );
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
