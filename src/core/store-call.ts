import { SessionStoreError } from '../errors.js';

/** Runs one store operation, bounded by a timeout, failing only with `SessionStoreError`. */
export type StoreCall = <T>(operation: string, call: Promise<T>) => Promise<T>;

/** A call in flight: settled by its store, or rejected when its deadline passes first. */
interface Pending {
  readonly deadline: number;
  readonly operation: string;
  reject: ((error: SessionStoreError) => void) | undefined;
}

/**
 * Every store call goes through here: a store that hangs (a reconnecting client, a dead server)
 * must never hang a request, and whatever a backend throws reaches the app as one typed error.
 *
 * One timer serves every call of this guard: all calls get the same timeout, so their deadlines
 * come in the order the calls started, and a queue in that order needs only one timer, armed for the
 * oldest call still in flight (a timer per call was a measurable share of a read request's CPU).
 */
export function boundedStoreCall(storeName: string, timeoutMs: number): StoreCall {
  const queue: Pending[] = [];
  let head = 0;
  let timer: NodeJS.Timeout | undefined;
  let inFlight = 0;

  const expire = (): void => {
    timer = undefined;
    const now = Date.now();
    while (head < queue.length) {
      const entry = queue[head]!;
      if (entry.reject !== undefined) {
        if (entry.deadline > now) break;
        const reject = entry.reject;
        entry.reject = undefined;
        inFlight--;
        reject(new SessionStoreError(entry.operation, `${storeName} did not answer within ${timeoutMs} ms`));
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
    arm(queue[head]!.deadline - now);
  };

  const arm = (delay: number): void => {
    timer = setTimeout(expire, Math.max(0, delay));
  };

  return <T>(operation: string, call: Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      const entry: Pending = { deadline: Date.now() + timeoutMs, operation, reject };
      queue.push(entry);
      inFlight++;
      if (timer === undefined) arm(timeoutMs);
      else if (inFlight === 1) timer.ref();
      call.then(
        (value) => {
          if (entry.reject === undefined) return; // already timed out
          entry.reject = undefined;
          if (--inFlight === 0) timer?.unref(); // an idle guard keeps no process alive
          resolve(value);
        },
        (error: unknown) => {
          if (entry.reject === undefined) return;
          entry.reject = undefined;
          if (--inFlight === 0) timer?.unref();
          reject(error instanceof SessionStoreError ? error : new SessionStoreError(operation, `${storeName}: ${messageOf(error)}`, { cause: error }));
        },
      );
    });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
