export { qsession, type QSessionMiddleware } from './middleware.js';
export { session } from './context.js';
export type { Session, SessionData, SessionMethods, RegenerateOptions } from './session.js';
export type { QSessionOptions, SessionCookieOptions, SameSite, StoreErrorPolicy, BuiltinStoreType, ResolvedOptions, ResolvedCookieOptions } from './options.js';
export type { SessionEventMap, SessionEvents } from './events.js';
export type { IdFormat } from './id.js';
export type { QuartSessionConfig } from './quart-config.js';
export type { PinningMode, ClientAddressOptions } from './client-address.js';
export type { SigningKey } from './signing.js';
export type { UserId, UserSessionInfo, DestroyUserSessionsOptions } from './user-sessions.js';
export type { CookieAction, RequestOutcome, OpenContext, LifecycleDeps } from './lifecycle.js';
export type { SessionRecord } from './session.js';
export type { StoreCall } from './store-call.js';
export { Lifecycle } from './lifecycle.js';
export {
  QSessionError,
  SessionOptionsError,
  SessionUsageError,
  SessionStoreError,
  SessionSerializationError,
  SessionTooLargeError,
  SessionDecodeError,
} from './errors.js';
export type { SessionStore, StoredValue, ReplaceResult, UserSessionIndex } from './stores/store.js';
export { MemoryStore, type MemoryStoreOptions } from './stores/memory.js';
export { RedisStore, type RedisClientLike } from './stores/redis.js';
export { MemcachedStore, type MemcachedStoreOptions, type MemcachedOption, type MemjsClientLike } from './stores/memcached.js';
export type { MemjsServerLike, MemjsResponse } from './stores/memcached-protocol.js';
export { FilesystemStore, type FilesystemStoreOptions } from './stores/filesystem.js';
export type { Serializer } from './serializers/serializer.js';
export { jsonSerializer } from './serializers/json.js';
export { TaggedJsonSerializer, taggedJsonSerializer, type RegisterOptions } from './serializers/tagged-json.js';
export type { JSONTag } from './serializers/tags.js';
export { v8Serializer } from './serializers/v8.js';
export { resolveSerializer, type SerializerName } from './serializers/index.js';
export { Tuple, Markup, UUID, PyFloat } from './serializers/values.js';
export { fromQuartConfig } from './quart-config.js';

import type { Session } from './session.js';

declare module 'koa' {
  interface DefaultContext {
    /** The request's session (the same object as the global `session`). */
    session: Session;
  }
}
