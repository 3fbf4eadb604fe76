import type { ResolvedOptions } from '../config/options.js';
import type { Serializer } from '../serializers/serializer.js';
import type { SessionStore } from '../stores/store.js';
import type { EntryCodec } from '../serializers/entry-codec.js';
import type { SessionEvents } from './events.js';
import type { SessionRecord } from './record.js';
import type { RetiredIds } from './retired.js';
import type { SessionLines } from './session-line.js';
import type { SessionText } from '../serializers/session-text.js';
import type { StoreBudget, StoreCall } from './store-call.js';
import type { StoredValue } from '../stored-value.js';

/** The types the two halves of a request (core/load.ts, core/commit.ts) and their users share. */

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
  /** `session.touch()` restarted the session's TTL: its index entry must live as long. */
  touched(record: SessionRecord, key: string, ttlMs: number): Promise<void>;
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
  /** The load's read of a session: one `get`, refreshing its TTL with option `rolling`. */
  read(key: string, budget: StoreBudget): Promise<StoredValue | null>;
  readonly lines: SessionLines;
  readonly retired: RetiredIds;
  /** Milliseconds the session may still live: the store TTL on writes and the cookie's expiry. */
  ttlFor(record: SessionRecord): number;
}

