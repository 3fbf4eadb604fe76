import { SessionStoreError, SessionTooLargeError } from '../errors.js';
import type { StoredValue } from '../stored-value.js';
import type { ReplaceResult } from '../stores/store.js';
import type { StoreBudget } from './store-call.js';
import type { SaveTicket } from './turns.js';

/** One request's save of a stored session. */
export interface SaveRequest {
  /** The stored value the request loaded (the very object the store handed out). */
  readonly expected: StoredValue;
  /** The request's whole session, assembled: what to store when nothing changed in between. */
  readonly value: StoredValue;
  /** The keys the request changed (raw form) or removed (null), to apply on top of a newer value. */
  readonly changes: ReadonlyMap<string, unknown>;
  readonly ttlMs: number;
  /** The request's store budget: the write made for a batch draws on its last request's. */
  readonly budget?: StoreBudget;
  /** This save's ticket: marked settled or failed the moment its outcome is known. */
  readonly ticket?: SaveTicket;
  /** The save whose value this request started from (a turn's handover): if that one failed, so does this. */
  readonly builtOn?: SaveTicket;
}

export type SaveOutcome = { readonly status: 'ok'; readonly value: StoredValue } | { readonly status: 'missing' };

export interface SaveQueueDeps {
  /** One bounded compare-and-set (the store's `replace` through the store-call guard). */
  replace(key: string, expected: StoredValue, value: StoredValue, ttlMs: number, budget?: StoreBudget): Promise<ReplaceResult>;
  /** `changes`, in order, applied on top of a stored value, assembled (throws SessionTooLargeError). */
  merge(current: StoredValue, changes: ReadonlyArray<ReadonlyMap<string, unknown>>): StoredValue;
  /**
   * `storeTimeout`: how long a save may keep retrying against writers in other processes, and the
   * whole of a request's store budget (a queued save's wait for the writes ahead draws on it too).
   */
  readonly budgetMs: number;
  /** Told of each compare-and-set conflict (debug logging). */
  readonly onConflict?: ((key: string, attempt: number) => void) | undefined;
}

interface Waiter {
  readonly request: SaveRequest;
  resolve(outcome: SaveOutcome): void;
  reject(error: unknown): void;
  /** Since when (performance.now()) its budget has not been charged: waiting for the writes ahead draws on it. */
  unchargedSince: number;
  /** Fails it when its budget runs out before its write is answered (a store slower than the budget). */
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Settled or failed: later outcomes are ignored. */
  done: boolean;
}

/** What this process knows of a session's stored value after its last write. */
const MISSING = Symbol('missing');
type Known = StoredValue | typeof MISSING | undefined;

/** The saves of one session: the one in flight, those waiting for it, and what it stored. */
interface Lane {
  readonly waiting: Waiter[];
  known: Known;
}

/**
 * Saves of one session (one store key) from this process, one at a time. A save that arrives while
 * another is in flight waits for it and lands on top of ITS result: the stored value is known, so the
 * compare-and-set expects it and no conflict round trip is needed. Saves that waited together make
 * one write (their changes applied in arrival order), and each gets that write's outcome. So requests
 * of one process never conflict with each other, nor fail because of each other.
 *
 * Against writers in other processes, compare-and-set decides: on a conflict the changes are applied
 * on top of what is stored now and tried again, with a jittered pause that grows while conflicts go
 * on, for at most `budgetMs` (then SessionStoreError, like any store call over `storeTimeout`).
 */
export class SaveQueue {
  private readonly lanes = new Map<string, Lane>();

  constructor(private readonly deps: SaveQueueDeps) {}

  replace(key: string, request: SaveRequest): Promise<SaveOutcome> {
    // Its starting point already failed (and its lane may be gone with it): it fails too, unwritten.
    if (request.builtOn?.state === 'failed') {
      if (request.ticket) request.ticket.state = 'failed';
      return Promise.reject(orphanError());
    }
    const lane = this.lanes.get(key);
    if (lane) {
      return new Promise<SaveOutcome>((resolve, reject) => {
        const waiter = waiterFor(request, resolve, reject);
        // Waiting for the saves ahead is waiting on the store: bounded by what is left of the budget.
        const left = this.deps.budgetMs - (request.budget?.spentMs ?? 0);
        waiter.timer = setTimeout(() => this.expire(waiter), Math.max(0, left));
        lane.waiting.push(waiter);
      });
    }
    const fresh: Lane = { waiting: [], known: undefined };
    this.lanes.set(key, fresh);
    return this.alone(key, fresh, request);
  }

  /**
   * The common case: no save of this session in flight here. The request's own compare-and-set,
   * answered straight from the store's reply (no waiter, no batch); only a conflict takes the
   * general path. Saves that arrived meanwhile are written after it, as a batch.
   */
  private alone(key: string, lane: Lane, request: SaveRequest): Promise<SaveOutcome> {
    const started = Date.now();
    const { expected, value } = request;
    let reply: Promise<ReplaceResult>;
    try {
      reply = this.deps.replace(key, expected, value, request.ttlMs, request.budget);
    } catch (error) {
      // A store that throws instead of rejecting must not leave the lane behind.
      reply = Promise.reject(error);
    }
    return reply.then(
      (result) => {
        if (result.status === 'conflict') {
          return new Promise<SaveOutcome>((resolve, reject) => {
            const batch = [waiterFor(request, resolve, reject)];
            void this.attempts(key, lane, batch, expected, value, started, result).then(() => this.drain(key, lane));
          });
        }
        const outcome: SaveOutcome = result.status === 'ok' ? { status: 'ok', value } : { status: 'missing' };
        lane.known = result.status === 'ok' ? value : MISSING;
        // Before the waiting saves run: those that started from this one look at its ticket.
        if (request.ticket) request.ticket.state = 'settled';
        void this.drain(key, lane);
        return outcome;
      },
      (error: unknown) => {
        // What is stored now is unknown: the next batch starts from its own loaded value.
        lane.known = undefined;
        if (request.ticket) request.ticket.state = 'failed';
        void this.drain(key, lane);
        throw error;
      },
    );
  }

  /** Runs the writes of whoever waits on the lane until nobody does, then forgets the lane. */
  private async drain(key: string, lane: Lane): Promise<void> {
    for (let batch = lane.waiting.splice(0); batch.length > 0; batch = lane.waiting.splice(0)) {
      await this.write(key, lane, batch);
    }
    this.lanes.delete(key);
  }

  /** A queued save's budget ran out before its write was answered: it fails (its write may still land). */
  private expire(waiter: Waiter): void {
    if (waiter.done) return;
    if (waiter.request.budget) waiter.request.budget.spentMs = this.deps.budgetMs;
    fail(waiter, new SessionStoreError('replace', `waited for the saves of its session ahead of it and for the store longer than its storeTimeout of ${this.deps.budgetMs} ms`));
  }

  /** One write for a batch of waiters; settles every one of them, never throws. */
  private async write(key: string, lane: Lane, waiting: Waiter[]): Promise<void> {
    const batch = withoutOrphans(waiting.filter((waiter) => !waiter.done));
    if (batch.length === 0) return;
    charge(batch); // the wait for the writes ahead
    if (lane.known === MISSING) {
      // The session is gone (destroyed or expired): a replace never brings it back.
      for (const waiter of batch) settle(waiter, { status: 'missing' });
      return;
    }
    let expected: StoredValue;
    let value: StoredValue;
    try {
      if (lane.known === undefined && batch.length === 1) {
        // Alone, with nothing written before it: the request's own view against what it loaded.
        ({ expected, value } = batch[0]!.request);
      } else {
        expected = lane.known ?? batch[0]!.request.expected;
        value = this.deps.merge(expected, batch.map((waiter) => waiter.request.changes));
      }
    } catch (error) {
      if (error instanceof SessionTooLargeError && batch.length > 1) return this.oneByOne(key, lane, batch);
      for (const waiter of batch) fail(waiter, error);
      return;
    }
    return this.attempts(key, lane, batch, expected, value, Date.now());
  }

  /**
   * Compare-and-set until it lands or the session is gone, for at most `budgetMs` from `started`;
   * `first`: the reply to an attempt already made. Settles every waiter, never throws.
   */
  private async attempts(key: string, lane: Lane, batch: Waiter[], expected: StoredValue, value: StoredValue, started: number, first?: ReplaceResult): Promise<void> {
    const last = batch[batch.length - 1]!.request;
    const deadline = started + this.deps.budgetMs;
    try {
      for (let attempt = 0; ; attempt++) {
        // Bounded by the budget with the most left (a waiter never fails because another had spent
        // more: each is failed by its own timer instead); each is charged what the write took.
        const result = attempt === 0 && first !== undefined ? first : await this.deps.replace(key, expected, value, last.ttlMs, mostLeft(batch));
        charge(batch);
        if (result.status === 'ok') {
          lane.known = value;
          for (const waiter of batch) settle(waiter, { status: 'ok', value });
          return;
        }
        if (result.status === 'missing') {
          lane.known = MISSING;
          for (const waiter of batch) settle(waiter, { status: 'missing' });
          return;
        }
        // Every waiter of the batch ran out of budget meanwhile: nobody is left to write for.
        if (batch.every((waiter) => waiter.done)) {
          lane.known = result.current;
          return;
        }
        // Another process wrote in between: these changes on top of what it stored.
        this.deps.onConflict?.(key, attempt + 1);
        expected = result.current;
        value = this.deps.merge(result.current, batch.map((waiter) => waiter.request.changes));
        if (attempt > 0) await contentionPause(attempt, deadline);
      }
    } catch (error) {
      charge(batch);
      if (error instanceof SessionTooLargeError && batch.length > 1) return this.oneByOne(key, lane, batch);
      // What is stored now is unknown: the next batch starts from its own loaded value.
      lane.known = undefined;
      for (const waiter of batch) fail(waiter, error);
    }
  }

  /** Together the batch's changes are too large: each waiter alone, so only those over the limit fail. */
  private async oneByOne(key: string, lane: Lane, batch: Waiter[]): Promise<void> {
    for (const waiter of batch) await this.write(key, lane, [waiter]);
  }
}

function waiterFor(request: SaveRequest, resolve: (outcome: SaveOutcome) => void, reject: (error: unknown) => void): Waiter {
  return { request, resolve, reject, unchargedSince: performance.now(), timer: undefined, done: false };
}

function settle(waiter: Waiter, outcome: SaveOutcome): void {
  if (waiter.done) return;
  waiter.done = true;
  clearTimeout(waiter.timer);
  if (waiter.request.ticket) waiter.request.ticket.state = 'settled';
  waiter.resolve(outcome);
}

function fail(waiter: Waiter, error: unknown): void {
  if (waiter.done) return;
  waiter.done = true;
  clearTimeout(waiter.timer);
  if (waiter.request.ticket) waiter.request.ticket.state = 'failed';
  waiter.reject(error);
}

/** A budget for a batch's write: a copy of its waiter's with the most left (the guard charges the copy). */
function mostLeft(batch: Waiter[]): StoreBudget {
  let spentMs = Infinity;
  for (const waiter of batch) spentMs = Math.min(spentMs, waiter.request.budget?.spentMs ?? 0);
  return { spentMs };
}

/** Charges each waiter's budget the time since it was last charged (waiting in the lane, or the batch's write). */
function charge(batch: Waiter[]): void {
  const now = performance.now();
  for (const waiter of batch) {
    if (waiter.request.budget) waiter.request.budget.spentMs += now - waiter.unchargedSince;
    waiter.unchargedSince = now;
  }
}

/**
 * The waiters whose starting point can still land: one that started from a save that failed (in an
 * earlier batch, or earlier in this one) fails too, or it would store that save's changes after its
 * request was told they were not saved. Batches run in order, so those saves are settled by now.
 */
function withoutOrphans(waiting: Waiter[]): Waiter[] {
  if (!waiting.some((waiter) => waiter.request.builtOn)) return waiting;
  const kept: Waiter[] = [];
  for (const waiter of waiting) {
    if (waiter.request.builtOn?.state === 'failed') fail(waiter, orphanError());
    else kept.push(waiter);
  }
  return kept;
}

function orphanError(): SessionStoreError {
  return new SessionStoreError('replace', 'the request before this one on the same session could not save its changes, and this one started from them');
}

/**
 * Between compare-and-set attempts that keep conflicting: a random pause up to a bound that doubles
 * (1, 2, 4 ... 50 ms), never past the deadline; past it, the save fails with a store error.
 */
async function contentionPause(attempt: number, deadline: number): Promise<void> {
  const left = deadline - Date.now();
  if (left <= 0) throw new SessionStoreError('replace', 'the session kept changing under writers in other processes for longer than storeTimeout');
  const bound = Math.min(2 ** Math.min(attempt, 6), 50, left);
  await new Promise((resolve) => setTimeout(resolve, Math.random() * bound));
}
