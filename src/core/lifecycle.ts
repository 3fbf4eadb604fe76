import type { ResolvedOptions } from '../config/options.js';
import type { Serializer } from '../serializers/serializer.js';
import type { SessionStore } from '../stores/store.js';
import { SessionCommitter } from './commit.js';
import { entryCodecFor, type EntryCodec } from './entry-codec.js';
import type { SessionEvents } from './events.js';
import { makeIdGenerator, makeIdValidator } from './id.js';
import { SessionLoader } from './load.js';
import { metaOf } from './metadata.js';
import type { SessionRecord } from './record.js';
import { RetiredIds } from './retired.js';
import { SessionLines } from './session-line.js';
import { SessionText } from './session-text.js';
import { boundedStoreCall, type StoreBudget, type StoreCall } from './store-call.js';

/**
 * What the response must do with the session cookie: the one and only cookie decision. `set` carries
 * its expiry (undefined: a browser-session cookie), worked out once per request.
 */
export type CookieDecision =
  | { readonly kind: 'none' }
  | { readonly kind: 'set'; readonly id: string; readonly expires: Date | undefined }
  | { readonly kind: 'clear' };

/** How the request ended, as far as the session is concerned. */
export interface RequestOutcome {
  /** The response is a static file (and `staticFile` is off): no cookie, no expiry refresh. */
  readonly isStatic: boolean;
  /** The handler threw: data changes are dropped, `destroy()` still takes effect. */
  readonly failed: boolean;
  /** The cookie verified with an older signing key: a live session gets it back under the first key. */
  readonly rotated?: boolean;
}

/**
 * Keeps a per-user index in step with the sessions the lifecycle loads, writes and deletes.
 * Implemented in `users/`; the lifecycle only calls it, so the core knows nothing of users.
 */
export interface SessionIndexHooks {
  loaded(record: SessionRecord, key: string): Promise<void>;
  discarded(key: string, data: Record<string, unknown>): Promise<void>;
  /** The user this write will be indexed under; throws (before anything is stored) on a bad one. */
  userToIndex(record: SessionRecord): unknown;
  written(record: SessionRecord, user: unknown, created: boolean, ttlMs: number): Promise<void>;
  removed(record: SessionRecord, ids: readonly string[]): Promise<void>;
}

export interface LifecycleDeps {
  readonly options: ResolvedOptions;
  readonly store: SessionStore;
  readonly serializer: Serializer;
  readonly events: SessionEvents;
  /** One store call, bounded by `storeTimeout`, failing with `SessionStoreError` (default: made here). */
  readonly guard?: StoreCall;
  /** The per-user index upkeep, when `userKey` is set and the store has an index. */
  readonly users?: SessionIndexHooks;
}

/** What `open` needs to know about the request besides the cookie. */
export interface OpenContext {
  /** The normalised client address; given only when `hijackProtection` is on. */
  readonly address?: string;
  /** The raw X-Forwarded-For header, given with `address` when a Quart app pins by it (`quartPinning: 'forwarded-for'`). */
  readonly forwardedFor?: string;
  /** The request may write (option `isWriter`): it takes its turn among the session's writers. */
  readonly writer?: boolean;
}

/** What the two halves of a request share: the options, the store and the session's coordination. */
export interface LifecycleParts {
  readonly options: ResolvedOptions;
  readonly store: SessionStore;
  readonly serializer: Serializer;
  readonly events: SessionEvents;
  readonly guard: StoreCall;
  readonly users: SessionIndexHooks | undefined;
  readonly codec: EntryCodec;
  readonly text: SessionText;
  readonly newId: () => string;
  readonly isValidId: (candidate: string) => boolean;
  readonly lines: SessionLines;
  readonly retired: RetiredIds;
  /** Milliseconds the session may still live: the store TTL on writes and the cookie's expiry. */
  ttlFor(record: SessionRecord): number;
}

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
    const parts: LifecycleParts = {
      options, store, serializer, events: deps.events, guard, users: deps.users, codec,
      text: new SessionText(codec, options.maxSize),
      newId: makeIdGenerator(options.idFormat),
      isValidId: makeIdValidator(options.idFormat),
      lines: new SessionLines({ waitMs: options.turnWait, store, guard, leaseTtl: options.lock?.ttl }),
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
  fresh(replacesCookie: boolean, address?: string, budget?: StoreBudget): SessionRecord {
    return this.loader.fresh(replacesCookie, address, budget);
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
