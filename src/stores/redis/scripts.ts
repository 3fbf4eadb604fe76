import { createHash } from 'node:crypto';
import type { EvalArguments, RedisCommands } from './connection.js';

export interface LuaScript {
  readonly source: string;
  readonly sha1: string;
}

function script(source: string): LuaScript {
  return { source, sha1: createHash('sha1').update(source).digest('hex') };
}

/**
 * Compare-and-set in one round trip. Lua strings are byte strings, so `==` compares the stored
 * bytes with the expected bytes exactly, and the new value is stored as given: the serializer's
 * output is never decoded or re-encoded here (that is what keeps Quart's tagged JSON byte-identical).
 * Replies: 1 = replaced, 0 = the key is gone, a bulk string = the key holds this other value.
 * KEYS[1] session key; ARGV[1] expected value, ARGV[2] new value, ARGV[3] TTL in ms.
 */
const COMPARE_AND_SET_STEPS = `
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
if current ~= ARGV[1] then return current end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`;
export const COMPARE_AND_SET = script(COMPARE_AND_SET_STEPS);

/**
 * COMPARE_AND_SET, releasing the lease of option `lock` in the same step (DEL only if it still holds
 * this writer's token: after its TTL it may be another's). Two keys: not for Redis Cluster.
 * KEYS[1] session key, KEYS[2] lease key; ARGV[1..3] as COMPARE_AND_SET, ARGV[4] the lease's token.
 */
export const COMPARE_AND_SET_RELEASE = script(`
if redis.call('GET', KEYS[2]) == ARGV[4] then redis.call('DEL', KEYS[2]) end` + COMPARE_AND_SET_STEPS);

/**
 * Compare-and-delete, the same way: DEL only if the key still holds exactly the expected bytes.
 * Replies: 1 = deleted, 0 = the key is gone, a bulk string = the key holds this other value.
 * KEYS[1] session key; ARGV[1] expected value.
 */
export const COMPARE_AND_DELETE = script(`
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
if current ~= ARGV[1] then return current end
redis.call('DEL', KEYS[1])
return 1
`);

/**
 * Adds a session to a user's set and lengthens the set's expiry to at least this session's TTL,
 * atomically, so a set never lives on without a TTL and never expires before a session it lists:
 * a 30-day "remember me" session followed by a 1-minute one keeps the set for 30 days. (A Lua max
 * rather than `PEXPIRE ... GT`: GT reads a set without a TTL as infinite and would never set one,
 * and it needs Redis 7.0.) PTTL is -1 for a set SADD just made. One key only, so it runs on a
 * Cluster too.
 * KEYS[1] user set; ARGV[1] session key, ARGV[2] TTL in ms.
 */
export const USER_ADD = script(`
redis.call('SADD', KEYS[1], ARGV[1])
local ttl = tonumber(ARGV[2])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
`);

const asIs = (raw: unknown): unknown => raw;

/**
 * EVALSHA, and EVAL when this server (or this Cluster node) has not seen the script yet: EVAL
 * also caches it, so from then on each call is one short EVALSHA.
 */
export function runScript<T = unknown>(commands: RedisCommands, lua: LuaScript, options: EvalArguments, reply: (raw: unknown) => T = asIs as (raw: unknown) => T): Promise<T> {
  // One `then` for the reply and the NOSCRIPT fallback, rather than an async function or a `catch`
  // and a `then`: the fewest promises on every write.
  return commands.evalSha(lua.sha1, options).then(reply, (error: unknown) => {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return commands.eval(lua.source, options).then(reply);
  });
}
