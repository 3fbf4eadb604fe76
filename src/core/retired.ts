import type { SessionStore } from '../stores/store.js';
import type { StoreBudget, StoreCall } from './store-call.js';

/**
 * "This id was retired a moment ago" (a login's `regenerate()`, a logout's `destroy()`), known to
 * every process: a short-lived marker in the store beside the session, `<key>:retired`, written
 * before the session is deleted, holding how it ended.
 *
 * Why: a request of the same browser that was sent before the login answered (a page's other
 * requests, a slow one) may reach any worker after the login. If it found the session missing and
 * cleared the cookie, or started a new session and set ITS cookie, or re-set the old id (a rolling
 * refresh), the browser would drop the login's cookie: the user is logged out. So a request that
 * finds its session missing, or is about to re-send an id it did not write, asks first; a retired id
 * gets no cookie at all. A Python app sharing the store never reads these keys.
 */
const SUFFIX = ':retired';

/**
 * Longer than a request stays in flight; after that a missing session is just expired. Not much
 * longer: a browser that still sends a retired id (its logout's answer never reached it) gets no
 * cookie and cannot store a session until the marker is gone.
 */
export const RETIRED_TTL_MS = 30_000;

/**
 * `regenerated`: the browser holds (or is about to get) a newer id, which nothing may replace: a
 * request with the old one stores nothing and sends no cookie. `destroyed`: a logout; the browser
 * holds no cookie any more, so a request with the old one may start a new session as usual, but
 * the old id is never re-sent.
 */
export type Retirement = 'regenerated' | 'destroyed';

export class RetiredIds {
  constructor(
    private readonly store: SessionStore,
    private readonly guard: StoreCall,
  ) {}

  /** Marks `key` retired, then deletes it: a request that misses the session then finds the marker. */
  async retire(key: string, how: Retirement, budget: StoreBudget): Promise<void> {
    await this.guard('create', this.store.create(key + SUFFIX, how, RETIRED_TTL_MS), budget);
    await this.guard('delete', this.store.delete(key), budget);
  }

  /** How `key` was retired within RETIRED_TTL_MS, or undefined. */
  async of(key: string, budget: StoreBudget): Promise<Retirement | undefined> {
    const marker = await this.guard('get', this.store.get(key + SUFFIX), budget);
    if (marker === null) return undefined;
    return (typeof marker === 'string' ? marker : Buffer.from(marker).toString()) === 'destroyed' ? 'destroyed' : 'regenerated';
  }
}
