// Type-level tests (checked by `npm run typecheck`, never run): node-redis 6's connection kinds fit
// what the Redis store takes, as v5's do (public-api.types.ts), RESP2 and type-mapped clients
// included (6 speaks RESP3 by default). `redis-v6` is the dev alias of `redis@^6`.
import { expectTypeOf } from 'expect-type';
import type { createClient, createCluster, createSentinel } from 'redis-v6';
import type { RedisClientLike, RedisStoreOptions } from 'koa-qsession';

expectTypeOf<ReturnType<typeof createClient>>().toMatchTypeOf<RedisClientLike>();
expectTypeOf<ReturnType<typeof createClient<{}, {}, {}, 2, {}>>>().toMatchTypeOf<RedisClientLike>();
expectTypeOf<ReturnType<typeof createCluster>>().toMatchTypeOf<RedisClientLike>();
expectTypeOf<ReturnType<typeof createSentinel>>().toMatchTypeOf<RedisClientLike>();
expectTypeOf<{ client: ReturnType<typeof createClient> }>().toMatchTypeOf<RedisStoreOptions>();
