import { SessionCommitter } from './commit.js';
import { entryCodecFor } from '../serializers/entry-codec.js';
import { makeIdGenerator, makeIdValidator } from './id.js';
import type { CookieDecision, LifecycleDeps, LifecycleParts, OpenContext, RequestOutcome } from './lifecycle-parts.js';
import { SessionLoader } from './load.js';
import { metaOf } from './metadata.js';
import type { SessionRecord } from './record.js';
import { RetiredIds } from './retired.js';
import { SessionLines } from './session-line.js';
import { SessionText } from '../serializers/session-text.js';
import { boundedStoreCall, type StoreBudget } from './store-call.js';

export type { CookieDecision, LifecycleDeps, LifecycleParts, OpenContext, RequestOutcome, SessionIndexHooks } from './lifecycle-parts.js';

/**
 * Every per-request decision, with no HTTP in sight: `open` (core/load.ts) turns the cookie's id into
 * a session, `commit` (core/commit.ts) decides what to store and which cookie to send. The middleware
 * only moves values between Koa and these calls.
 */
export class Lifecycle {
  private readonly loader: SessionLoader;
  private readonly committer: SessionCommitter;

  constructor(deps: LifecycleDeps) {
    const { options, store, serializer } = deps;
    const guard = deps.guard ?? boundedStoreCall(store.name, options.storeTimeout);
    const codec = entryCodecFor(serializer);
    serializer.prepare?.();
    const read = (key: string, budget: StoreBudget) => guard('get', store.get(key, options.rolling ? options.lifetime : undefined), budget);
    const parts: LifecycleParts = {
      options, store, serializer, events: deps.events, guard, users: deps.users, codec,
      text: new SessionText(codec, options.maxSize),
      newId: makeIdGenerator(options.idFormat),
      isValidId: makeIdValidator(options.idFormat),
      read,
      lines: new SessionLines({ waitMs: options.turnWait, store, guard, leaseTtl: options.lock?.ttl, read }),
      retired: new RetiredIds(store, guard),
      ttlFor: (record) => ttlFor(record, options.maxAge),
    };
    this.loader = new SessionLoader(parts);
    this.committer = new SessionCommitter(parts);
  }

  /**
   * The session for a request whose cookie carried `cookieId` (undefined: no cookie). No store call
   * without a well-formed id; an unknown, expired or unreadable id gives a fresh session with a NEW id.
   */
  open(cookieId: string | undefined, context: OpenContext = {}): SessionRecord | Promise<SessionRecord> {
    return this.loader.open(cookieId, context);
  }

  /** A new, unsaved session (a stand-in when the store could not be reached). */
  fresh(replacesCookie: boolean, context: OpenContext = {}, budget?: StoreBudget): SessionRecord {
    return this.loader.fresh(replacesCookie, context, budget);
  }

  /** Saves what the request changed and says which cookie to send (synchronous when nothing is stored). */
  commit(record: SessionRecord, outcome: RequestOutcome): CookieDecision | Promise<CookieDecision> {
    return this.committer.commit(record, outcome);
  }

  /** `session.reload()`. */
  reload(record: SessionRecord): Promise<void> {
    return this.loader.reload(record);
  }

  /** The request is over (committed, or failed before it could be): the next writer of its session may go. */
  release(record: SessionRecord): void {
    this.committer.leave(record, record.turn?.from);
  }
}

/** The idle `lifetime`, capped by what remains of `maxAge`. */
function ttlFor(record: SessionRecord, maxAge: number | undefined): number {
  const lifetime = record.lifetime;
  const created = metaOf(record, '_created');
  if (maxAge === undefined || typeof created !== 'number') return lifetime;
  return Math.max(1, Math.min(lifetime, Math.ceil(created * 1000 + maxAge - Date.now())));
}
