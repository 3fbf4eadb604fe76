import { SessionOptionsError } from '../../errors.js';
import { sameStoredValue, type StoredValue } from '../../stored-value.js';
import type { ReplaceResult } from '../store.js';

/**
 * What the two adapters share: the in-process write queue (re-exported), the mapping of our stored value into
 * the object a foreign store keeps, and calling a store that answers through a Node-style callback.
 */

/**
 * The adapters run the writes to one key one after another inside this process, in a `KeyedQueue`
 * (stores/keyed-queue.ts) with a `holdMs`. Foreign stores have no compare-and-set, so `create` /
 * `replace` are a read followed by a write; queueing them per key makes that pair atomic against
 * every other call made through the same adapter (one process). Other processes sharing the store
 * are not in this queue: see docs/stores-foreign.md.
 */
export { KeyedQueue } from '../keyed-queue.js';

/** Our value as it sits inside a foreign session object: text as it is, bytes in base64. */
export interface PackedValue {
  readonly text?: string;
  readonly base64?: string;
}

export function pack(value: StoredValue): PackedValue {
  // Bytes (the v8 serializer) cannot ride in a JSON document as they are: base64 them, and keep
  // them apart from text so they come back as bytes (the v8 serializer refuses text).
  return typeof value === 'string' ? { text: value } : { base64: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
}

/** The value packed in `text` / `base64`, or undefined when neither holds one (not ours). */
export function unpack(text: unknown, base64: unknown): StoredValue | undefined {
  if (typeof text === 'string') return text;
  if (typeof base64 === 'string') return Buffer.from(base64, 'base64');
  return undefined;
}

/** What a read of a foreign store found under a key. */
export type ForeignRead<R> =
  | { readonly state: 'missing' }
  /** Something koa-qsession did not write (e.g. express-session's own session under the same name): never overwritten. */
  | { readonly state: 'foreign' }
  | { readonly state: 'ours'; readonly value: StoredValue; readonly record: R };

/**
 * Compare-and-set / compare-and-delete on a store without one (run inside the key's queue): `act`
 * only when the entry is ours and holds exactly `expected`.
 */
export async function ifUnchanged<R>(found: ForeignRead<R>, expected: StoredValue, act: () => Promise<unknown>): Promise<ReplaceResult> {
  if (found.state !== 'ours') return { status: 'missing' };
  if (!sameStoredValue(found.value, expected)) return { status: 'conflict', current: found.value };
  await act();
  return { status: 'ok' };
}

export function valueOf<R>(read: ForeignRead<R>): StoredValue | null {
  return read.state === 'ours' ? read.value : null;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * Calls a function that answers through a Node-style callback (`(error, result)`). The callback is
 * what counts: connect-redis 7+ also returns a promise, which resolves to whatever the callback
 * returned, so a returned promise only counts when it rejects (a store that throws that way).
 */
export function callback<T>(start: (done: (error?: unknown, result?: T) => void) => unknown): Promise<T | undefined> {
  return new Promise<T | undefined>((resolve, reject) => {
    let settled = false;
    const done = (error?: unknown, result?: T) => {
      if (settled) return;
      settled = true;
      if (error) reject(error);
      else resolve(result);
    };
    try {
      const returned = start(done);
      if (isThenable(returned)) returned.then(undefined, (error: unknown) => done(error ?? new Error('the store rejected without a reason')));
    } catch (error) {
      done(error ?? new Error('the store threw without a reason'));
    }
  });
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return isObject(value) && typeof value.then === 'function';
}

/** Refuses, at start-up, an object that lacks the methods the adapter will call. */
export function checkMethods(adapter: string, store: unknown, methods: readonly string[]): void {
  for (const method of methods) {
    if (!isObject(store) || typeof store[method] !== 'function') {
      throw new SessionOptionsError('store', `given to ${adapter}() must have a ${method}() method (got ${describe(store)})`);
    }
  }
}

/** A short label for a foreign store in logs and errors: its class name. */
export function classNameOf(store: object): string | undefined {
  const name = (store as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' && name !== 'Object' ? name : undefined;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (!isObject(value)) return typeof value;
  return classNameOf(value) ?? 'an object';
}

/** Default time a stuck foreign call holds up the next write to the same key. */
export const DEFAULT_HOLD_MS = 10_000;

export interface ForeignStoreOptions {
  /** Name used in logs and errors. Default: `express:<class name>` / `koa-session:<class name>`. */
  name?: string;
  /**
   * Longest time, in ms, one call to the foreign store holds up the next write to the same
   * session in this process (a call that never answers must not block that session for good).
   * Default 10 000.
   */
  holdMs?: number;
}

export function resolveHoldMs(adapter: string, holdMs: number | undefined): number {
  if (holdMs === undefined) return DEFAULT_HOLD_MS;
  if (!Number.isSafeInteger(holdMs) || holdMs < 1) throw new SessionOptionsError(`${adapter}.holdMs`, `must be a positive whole number of ms (got ${String(holdMs)})`);
  return holdMs;
}

/**
 * When `qsession({ store })` is given an express-session or koa-session store as it is: a hint
 * naming the adapter to wrap it in, or undefined when it does not look like one.
 */
export function foreignStoreHint(store: unknown): string | undefined {
  if (!isObject(store)) return undefined;
  const has = (method: string) => typeof store[method] === 'function';
  if (!has('get') || !has('set') || !has('destroy')) return undefined;
  if (has('create') || has('replace')) return undefined; // meant as a SessionStore: the factory names what it lacks
  // express-session's Store base class brings createSession / regenerate / load; connect stores extend it.
  const express = has('createSession') || has('regenerate') || has('load') || has('touch');
  const wrapper = express ? 'fromExpressStore' : 'fromKoaSessionStore';
  const kind = express ? 'an express-session (connect) store' : 'an express-session or koa-session store';
  return (
    `looks like ${kind}: wrap it, qsession({ store: ${wrapper}(yourStore) })` +
    (express ? '' : ' or fromExpressStore(yourStore) for a callback-style connect store') +
    '. Such stores have no compare-and-set; see docs/stores-foreign.md for what that costs'
  );
}
