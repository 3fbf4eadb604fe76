import { EventEmitter } from 'node:events';
import type { SessionDecodeError, SessionStoreError } from '../errors.js';

/**
 * What the middleware reports; listen with `middleware.on(name, listener)`. Events never carry
 * session data nor session ids (an id is a bearer credential): `session` is the id's label, a short
 * hash of it (see `idLabel`).
 */
export interface SessionEventMap {
  /**
   * A stored value the serializer could not read; a fresh session with a new id was started. The
   * entry is left alone (in a store shared with other apps it may be another app's live session, e.g.
   * Flask-Session's msgpack) and its TTL removes it. `session` is the id's label.
   */
  'decode-error': [{ session: string; error: SessionDecodeError }];
  /** The store failed or timed out (emitted whatever `onStoreError` does about it). */
  'store-error': [{ error: SessionStoreError }];
  /**
   * Session pinning refused a request: the session was pinned to `expected` and the request came from
   * `actual`. The session was deleted and the request continues with a fresh one. `session` is a short
   * hash of the old id (never the id itself, which is a bearer secret).
   */
  'pin-mismatch': [{ session: string; expected: string; actual: string }];
  /** A session reached `maxAge`; it was deleted and the request continues with a fresh one. */
  'absolute-timeout': [{ session: string; createdAt: Date }];
  /**
   * A key this request changed was also changed by another save after it read the session (`keys`),
   * or the session ended while it ran (`keys` empty). `resolution`: `failed` (the request answers 409,
   * nothing stored), `overwritten` (option `onConflict: 'overwrite'`: this request's values won).
   */
  conflict: [{ session: string; keys: readonly string[]; resolution: 'failed' | 'overwritten' }];
  /** Something the developer should know, e.g. a change to a new session made on a static-file response. */
  warning: [{ message: string }];
}

export type SessionEvents = EventEmitter<SessionEventMap>;

export function createEvents(): SessionEvents {
  return new EventEmitter<SessionEventMap>();
}
