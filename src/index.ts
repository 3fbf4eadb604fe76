// The public entry: what the README and docs/ document, nothing else. Internals the specs need
// come from src/internal.ts, which is not part of the package's exports.
export { qsession, type QSessionMiddleware } from './koa/middleware.js';
export { session } from './koa/context-storage.js';
export type { Session, SessionData, SessionMethods, RegenerateOptions, SessionContext, SessionReplacement } from './core/types.js';
export type { SessionCookie } from './core/session-cookie.js';
export type {
  QSessionOptions,
  SessionCookieOptions,
  SameSite,
  CookiePriority,
  StoreErrorPolicy,
  BuiltinStoreType,
  IdFormat,
  PinningMode,
  SigningKey,
} from './config/options.js';
export type { SessionEventMap, SessionEvents } from './core/events.js';
export type { QuartSessionConfig } from './config/quart.js';
export type { QuartPinning } from './config/quart-pinning.js';
export type { UserId, UserSessionInfo, DestroyUserSessionsOptions } from './users/user-sessions.js';
export {
  QSessionError,
  SessionOptionsError,
  SessionUsageError,
  SessionStoreError,
  SessionSerializationError,
  SessionTooLargeError,
  SessionDecodeError,
  SessionValueDecodeError,
  SessionConflictError,
  SessionForeignError,
} from './errors.js';
export type { SessionStore, StoredValue, ReplaceResult, UserSessionIndex } from './stores/store.js';
export { MemoryStore, type MemoryStoreOptions } from './stores/memory.js';
export { RedisStore, type RedisClientLike, type RedisStoreOptions, type WaitReplicasOptions } from './stores/redis/store.js';
export { MemcachedStore, type MemcachedStoreOptions, type MemcachedOption, type MemjsClientLike } from './stores/memcached/store.js';
export type { MemjsServerLike, MemjsResponse } from './stores/memcached/protocol.js';
export { FilesystemStore, type FilesystemStoreOptions } from './stores/filesystem/store.js';
export {
  fromExpressStore,
  type ExpressSessionStoreLike,
  type ExpressSessionRecord,
  type ExpressSessionCookie,
  type ExpressStoreCallback,
  type ExpressStoreAdapterOptions,
} from './stores/foreign/express-store.js';
export { fromKoaSessionStore, type KoaSessionStoreLike, type KoaSessionRecord, type KoaSessionStoreAdapterOptions } from './stores/foreign/koa-session-store.js';
export type { KeyedSerializer, Serializer } from './serializers/serializer.js';
export { jsonSerializer } from './serializers/json.js';
export { TaggedJsonSerializer, taggedJsonSerializer, type RegisterOptions, type TaggedJsonOptions } from './serializers/tagged-json/index.js';
export type { DateFormat } from './serializers/tagged-json/dates.js';
export type { JSONTag } from './serializers/tagged-json/tags.js';
export { v8Serializer } from './serializers/v8.js';
export type { SerializerName } from './serializers/index.js';
export { Tuple, Markup, UUID, PyFloat } from './serializers/tagged-json/values.js';
export { fromQuartConfig } from './config/quart.js';

import type { SessionContext } from './core/types.js';

declare module 'koa' {
  /**
   * `ctx.session`: the request's session (the same object as the global `session`, inside the
   * request). Assigning `null` destroys it and a plain object replaces its data (koa-session's
   * semantics). Through a base interface: see `SessionContext`.
   */
  interface DefaultContext extends SessionContext {}
}
