import { AsyncLocalStorage } from 'node:async_hooks';
import { SessionStoreError } from '../errors.js';
import { debug, debugEnabled } from './debug.js';

/** Runs one store operation, bounded by a timeout, failing only with `SessionStoreError`. */
export type StoreCall = <T>(operation: string, call: Promise<T>) => Promise<T>;

/** What one request has spent waiting on the store so far. */
interface StoreBudget {
  spentMs: number;
}

/**
 * The current request's budget. Held in async context rather than passed along, so that every store
 * call a request makes (load, save, retire, the user index, the handler's own listUserSessions)
 * draws on one budget without threading a parameter through each layer.
 */
const budgets = new AsyncLocalStorage<StoreBudget>();

/**
 * Runs `work` (one request) with a fresh store budget: from then on `storeTimeout` bounds the total
 * time that request waits on the store, not each call. A read that took 900 ms of a 1000 ms budget
 * leaves 100 ms for the write after it, so a hung store costs a request `storeTimeout` once.
 */
export function withStoreBudget<T>(work: () => T): T {
  return budgets.run({ spentMs: 0 }, work);
}

/**
 * Every store call goes through here: a store that hangs (a reconnecting client, a dead server)
 * must never hang a request, and whatever a backend throws reaches the app as one typed error.
 * Inside `withStoreBudget`, the timeout is what is left of the request's budget.
 */
export function boundedStoreCall(storeName: string, timeoutMs: number): StoreCall {
  const bounded = budgeted(storeName, timeoutMs);
  return debugEnabled ? timed(storeName, bounded) : bounded;
}

/** With debug logging on: every store call's duration and outcome (the key, which holds the id, never). */
function timed(storeName: string, call: StoreCall): StoreCall {
  return <T>(operation: string, pending: Promise<T>) => {
    const started = performance.now();
    const done = (outcome: string) => debug('store %s %s: %s in %s ms', storeName, operation, outcome, (performance.now() - started).toFixed(1));
    return call(operation, pending).then(
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

/** Bounded by what is left of the request's budget (or `timeoutMs` outside one). */
function budgeted(storeName: string, timeoutMs: number): StoreCall {
  return <T>(operation: string, call: Promise<T>) => {
    const budget = budgets.getStore();
    const limit = budget ? timeoutMs - budget.spentMs : timeoutMs;
    if (limit <= 0) {
      call.catch(() => undefined); // the store may still answer or fail; nobody is waiting for it
      return Promise.reject(new SessionStoreError(operation, `${storeName}: this request already waited its storeTimeout of ${timeoutMs} ms on the store`));
    }
    const started = performance.now();
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      if (budget) budget.spentMs += performance.now() - started;
      return true;
    };
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (settle()) reject(new SessionStoreError(operation, `${storeName} did not answer within ${Math.ceil(limit)} ms`));
      }, limit);
      call.then(
        (value) => {
          clearTimeout(timer);
          if (settle()) resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          if (settle()) reject(error instanceof SessionStoreError ? error : new SessionStoreError(operation, `${storeName}: ${messageOf(error)}`, { cause: error }));
        },
      );
    });
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
