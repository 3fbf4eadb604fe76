import { serialize as fingerprintOf } from 'node:v8';
import { SessionUsageError } from '../errors.js';
import { createFacade, type FacadeTarget } from './facade.js';
import { lifetimeOf, METADATA_KEYS } from './metadata.js';
import type { RegenerateOptions, Session } from './types.js';

export interface SessionInit {
  /** Omitted for a fresh session: its id is made only when something needs it (most never do). */
  id?: string;
  isNew: boolean;
  permanent: boolean;
  data?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  /** The exact stored value this session was loaded from, for compare-and-set on save. */
  loadedFrom?: unknown;
  /** Makes fresh ids for `regenerate()` and `destroy()`. */
  newId: () => string;
  /** The idle lifetime (ms) of sessions without one of their own (option `lifetime`). */
  defaultLifetime?: number;
}

/**
 * One request's session: its data, and everything the lifecycle needs to decide what to save.
 * Handlers see it only through `record.session` (a Proxy that makes data keys look like properties).
 */
export class SessionRecord implements FacadeTarget {
  private currentId: string | undefined;
  isNew: boolean;
  permanent: boolean;
  /** Null-prototype, so `__proto__` and `constructor` are ordinary keys here. */
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  loadedFrom: unknown;
  readonly changedKeys = new Set<string>();
  readonly removedKeys = new Set<string>();
  /** Fingerprints of object values handed to the handler, to notice changes made inside them. */
  private readonly exposed = new Map<string, Buffer | null>();
  markedDirty = false;
  /** Ids whose store entries must go when the request ends (after regenerate / destroy). */
  readonly retiredIds: string[] = [];
  destroyed = false;
  /** The client sent a session cookie that was not honoured (malformed, unknown, expired): clear it. */
  staleCookie = false;
  readonly newId: () => string;
  readonly session: Session;
  /** See SessionInit.defaultLifetime. */
  readonly defaultLifetime: number;
  /** Metadata keys this request set (`_permanent`, `_lifetime`): re-applied when a save merges. */
  readonly changedMetadata = new Set<string>();
  /** `session.touch()` was called: refresh the store TTL and the cookie even without a write. */
  touched = false;
  /** The request was committed: changes can no longer be saved, so making them is an error. */
  sealed = false;
  /** Re-reads a session from the store (`session.reload()`): the lifecycle's, set by the middleware. */
  reloader: ((record: SessionRecord) => Promise<void>) | undefined;

  constructor(init: SessionInit) {
    this.currentId = init.id;
    this.isNew = init.isNew;
    this.permanent = init.permanent;
    this.data = init.data ?? Object.create(null);
    this.metadata = init.metadata ?? Object.create(null);
    this.loadedFrom = init.loadedFrom;
    this.newId = init.newId;
    this.defaultLifetime = init.defaultLifetime ?? 0;
    this.session = createFacade(this);
  }

  get id(): string {
    return (this.currentId ??= this.newId());
  }

  set id(id: string) {
    this.currentId = id;
  }

  read(key: string): unknown {
    const value = this.data[key];
    if (value !== null && typeof value === 'object' && !this.changedKeys.has(key) && !this.exposed.has(key)) {
      this.exposed.set(key, fingerprint(value));
    }
    return value;
  }

  write(key: string, value: unknown): void {
    this.assertOpen();
    if (METADATA_KEYS.has(key)) throw new SessionUsageError(`"${key}" is kept by koa-qsession itself and cannot be set as data`);
    this.data[key] = value;
    this.changedKeys.add(key);
    this.removedKeys.delete(key);
  }

  remove(key: string): boolean {
    this.assertOpen();
    if (!(key in this.data)) return false;
    delete this.data[key];
    this.changedKeys.delete(key);
    this.exposed.delete(key);
    this.removedKeys.add(key);
    return true;
  }

  /** Keys whose values changed in this request (set, or mutated in place). */
  changed(): Set<string> {
    const keys = new Set(this.changedKeys);
    for (const key of this.exposed.keys()) if (this.mutatedInPlace(key)) keys.add(key);
    return keys;
  }

  get modified(): boolean {
    if (this.changedKeys.size > 0 || this.removedKeys.size > 0) return true;
    for (const key of this.exposed.keys()) if (this.mutatedInPlace(key)) return true;
    return false;
  }

  private mutatedInPlace(key: string): boolean {
    if (!(key in this.data)) return false;
    const before = this.exposed.get(key);
    return !before || !before.equals(fingerprint(this.data[key]) ?? EMPTY);
  }

  regenerate(options: RegenerateOptions = {}): void {
    this.assertOpen();
    const keep = options.keep ?? 'all';
    if (keep !== 'all') {
      const kept = keep === 'none' ? new Set<string>() : new Set(keep);
      for (const key of Object.keys(this.data)) if (!kept.has(key)) this.remove(key);
    }
    this.retire();
    this.markedDirty = true;
  }

  destroy(): void {
    this.assertOpen();
    this.retire();
    this.data = Object.create(null);
    this.changedKeys.clear();
    this.removedKeys.clear();
    this.exposed.clear();
    this.destroyed = true;
    this.markedDirty = false;
  }

  /** Changes after the commit would be lost without a word: refuse them (reads stay allowed). */
  assertOpen(): void {
    if (this.sealed) throw sealedError();
  }

  /** `session.permanent = value`: Quart's rule, `_permanent` is stored either way once set. */
  setPermanent(value: boolean): void {
    this.assertOpen();
    this.permanent = value;
    this.metadata._permanent = value;
    this.changedMetadata.add('_permanent');
    this.markedDirty = true;
  }

  /** This session's own idle lifetime in ms (`_lifetime`, stored in seconds), or the default. */
  get lifetime(): number {
    return lifetimeOf(this.metadata, this.defaultLifetime);
  }

  /** `session.cookie.maxAge = ms`: this session's own idle lifetime; a persistent cookie. */
  setLifetime(ms: number): void {
    this.assertOpen();
    this.metadata._lifetime = ms / 1000;
    this.changedMetadata.add('_lifetime');
    this.setPermanent(true);
  }

  /** `session.reload()`: see `reloaded`. */
  reload(): Promise<void> {
    if (this.sealed) return Promise.reject(sealedError());
    if (!this.reloader) return Promise.reject(new SessionUsageError('session.reload() needs the qsession() middleware'));
    return this.reloader(this);
  }

  /** `session.touch()`: refresh this session's TTL and cookie when the request ends. */
  touch(): void {
    this.assertOpen();
    this.touched = true;
  }

  /**
   * `session.reload()`: take what the store holds now (null: the session is gone there), dropping
   * this request's unsaved changes. A `destroy()` or `regenerate()` made before stays made.
   */
  reloaded(loaded: { data: Record<string, unknown>; metadata: Record<string, unknown>; loadedFrom: unknown; permanent: boolean } | null): void {
    this.assertOpen();
    this.changedKeys.clear();
    this.removedKeys.clear();
    this.exposed.clear();
    this.changedMetadata.clear();
    this.markedDirty = false;
    this.touched = false;
    if (loaded === null) {
      if (!this.isNew) {
        // The cookie names a session the store no longer has: continue as a fresh one, clear the cookie.
        this.staleCookie = true;
        this.currentId = undefined;
        this.isNew = true;
        this.loadedFrom = undefined;
      }
      const metadata: Record<string, unknown> = Object.create(null);
      if (this.metadata._addr !== undefined) metadata._addr = this.metadata._addr;
      this.metadata = metadata;
      this.data = Object.create(null);
      return;
    }
    this.data = loaded.data;
    this.metadata = loaded.metadata;
    this.loadedFrom = loaded.loadedFrom;
    this.permanent = loaded.permanent;
  }

  /** The old id goes to the retired list; the session continues under a fresh, unsaved id. */
  private retire(): void {
    if (!this.isNew) this.retiredIds.push(this.id);
    this.currentId = undefined; // a fresh id, made when first needed
    this.isNew = true;
    this.loadedFrom = undefined;
  }
}

const EMPTY = Buffer.alloc(0);

function sealedError(): SessionUsageError {
  return new SessionUsageError(
    'the session was changed after its request was committed (in a timer, a callback or fire-and-forget code ' +
      'that outlived the response, or in middleware above qsession() after it returned); such a change is never ' +
      'saved. Make it before the response is sent (await the work in the handler)',
  );
}

/** A cheap structural snapshot; null when the value cannot be snapshotted (always counts as changed). */
function fingerprint(value: unknown): Buffer | null {
  try {
    return fingerprintOf(value);
  } catch {
    return null;
  }
}
