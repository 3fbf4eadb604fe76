// Type-level tests of the public API: checked by `npm run typecheck` (never run). A change here is
// a change of what users' code compiles against: a semver decision, not a refactor.
import { expectTypeOf } from 'expect-type';
import type { createClient, createCluster, createSentinel } from 'redis';
import type { Context, Middleware } from 'koa';
import {
  MemoryStore,
  qsession,
  session,
  SessionStoreError,
  type QSessionMiddleware,
  type RedisClientLike,
  type ReplaceResult,
  type Session,
  type SessionStore,
  type StoredValue,
} from 'koa-qsession';
import { BunRedisStore, type BunRedisClientLike } from 'koa-qsession/bun-redis';

declare module 'koa-qsession' {
  interface SessionData {
    typesCart: { items: string[] };
    typesUserId: number;
  }
}

// The middleware is Koa middleware with handles on what it owns.
const middleware = qsession({ type: 'memory' });
expectTypeOf(middleware).toEqualTypeOf<QSessionMiddleware>();
expectTypeOf(middleware).toMatchTypeOf<Middleware>();
expectTypeOf(middleware.store).toEqualTypeOf<SessionStore>();
expectTypeOf(middleware.close).returns.toEqualTypeOf<Promise<void>>();

// Augmented keys are typed on the global session and on ctx.session alike.
expectTypeOf(session).toEqualTypeOf<Session>();
expectTypeOf(session.typesUserId).toEqualTypeOf<number | undefined>();
expectTypeOf(session.get('typesCart')).toEqualTypeOf<{ items: string[] } | undefined>();
expectTypeOf(session.get('typesCart', { items: [] })).toEqualTypeOf<{ items: string[] }>();
expectTypeOf<Context['session']>().toEqualTypeOf<Session>();
expectTypeOf(session.id).toEqualTypeOf<string>();
// @ts-expect-error a typed key takes only its type as a property
session.typesUserId = 'not a number';
// set() falls back to its (string, unknown) overload, so it does not catch that: pinned as it is.
expectTypeOf(session.set('typesUserId', 'not a number')).toEqualTypeOf<Session>();
// @ts-expect-error id is read-only
session.id = 'x';
// koa-session's idioms: permanent and cookie.maxAge per session. (`ctx.session = null` works at run
// time; its type stays Session, see src/index.ts.)
session.permanent = false;
session.cookie.maxAge = 30 * 24 * 3600 * 1000;
session.cookie.maxAge = null;
expectTypeOf(session.reload()).toEqualTypeOf<Promise<void>>();
expectTypeOf(session.touch()).toEqualTypeOf<void>();
expectTypeOf(session.save()).toEqualTypeOf<void>();
// Keys nobody declared are still allowed, as unknown (Quart's dict).
expectTypeOf(session.get('undeclared')).toEqualTypeOf<unknown>();

// The store interface, as a third-party store sees it.
expectTypeOf<StoredValue>().toEqualTypeOf<string | Uint8Array>();
expectTypeOf<SessionStore['replace']>().returns.toEqualTypeOf<Promise<ReplaceResult>>();
expectTypeOf(new MemoryStore()).toMatchTypeOf<SessionStore>();
expectTypeOf(new BunRedisStore({ client: {} as BunRedisClientLike })).toMatchTypeOf<SessionStore>();
expectTypeOf<SessionStoreError>().toMatchTypeOf<Error>();

// What the Redis store takes is structural (the published types must not need `redis` installed),
// yet every node-redis v5 connection kind fits it, RESP3 and type-mapped clients included.
expectTypeOf<ReturnType<typeof createClient>>().toMatchTypeOf<RedisClientLike>();
expectTypeOf<ReturnType<typeof createClient<{}, {}, {}, 3, {}>>>().toMatchTypeOf<RedisClientLike>();
expectTypeOf<ReturnType<typeof createCluster>>().toMatchTypeOf<RedisClientLike>();
expectTypeOf<ReturnType<typeof createSentinel>>().toMatchTypeOf<RedisClientLike>();
