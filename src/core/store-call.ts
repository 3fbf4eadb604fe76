import { SessionStoreError } from '../errors.js';
import { debug, debugEnabled } from './debug.js';

/** Runs one store operation, bounded by a timeout, failing only with `SessionStoreError`. */
export type StoreCall = <T>(operation: string, call: Promise<T>) => Promise<T>;

/**
 * Every store call goes through here: a store that hangs (a reconnecting client, a dead server)
 * must never hang a request, and whatever a backend throws reaches the app as one typed error.
 */
export function boundedStoreCall(storeName: string, timeoutMs: number): StoreCall {
  const bounded = boundedOnly(storeName, timeoutMs);
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

function boundedOnly(storeName: string, timeoutMs: number): StoreCall {
  return <T>(operation: string, call: Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new SessionStoreError(operation, `${storeName} did not answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      call.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof SessionStoreError ? error : new SessionStoreError(operation, `${storeName}: ${messageOf(error)}`, { cause: error }));
        },
      );
    });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
