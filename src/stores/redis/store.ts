import { DEFAULTS } from '../../defaults.js';
import { SessionOptionsError } from '../../errors.js';
import { onlyKnownKeys } from '../../validate.js';
import { ownConnection, sharedConnection, type EvalArguments, type RedisClientLike, type RedisCommands, type RedisConnection } from './connection.js';
import { clientKind, resolveWaitReplicas, waitForReplicas, type RedisClientKind, type ResolvedWaitReplicas, type WaitReplicasOptions } from './replicas.js';
import { COMPARE_AND_DELETE, COMPARE_AND_SET, COMPARE_AND_SET_RELEASE, runScript, USER_ADD, type LuaScript } from './scripts.js';
import type { ReplaceResult, SessionStore, StoredValue, UserSessionIndex } from '../store.js';

export type { RedisClientLike } from './connection.js';
export type { WaitReplicasOptions } from './replicas.js';

/** `redis` as an object: where to connect (a URL, or your client), plus store options. */
export interface RedisStoreOptions {
  /** A redis:// or rediss:// URL; the store opens and closes its own connection. */
  url?: string;
  /** A connected node-redis client, cluster or sentinel (v5 or v6) that you own. */
  client?: RedisClientLike;
  /** WAIT for replicas after deletions (or every write): see docs/reliability.md. */
  waitReplicas?: WaitReplicasOptions;
}

/** Quart-Session's SESSION_URI default. */
export const DEFAULT_REDIS_URL = DEFAULTS.redis.url;

/**
 * Sessions in Redis: standalone, Cluster or Sentinel, through node-redis.
 *
 * Round trips: one per read (GET, or GETEX when rolling), SET NX PX to create, one Lua
 * compare-and-set script to replace (its conflict reply carries the current value, so merging
 * needs no extra GET), DEL, PEXPIRE. Values are read as Buffers and compared byte for byte.
 */
export class RedisStore implements SessionStore {
  readonly name = 'redis';
  /** One connection per node: the commands of one key run in the order they were sent. */
  readonly ordered = true;
  readonly userIndex: UserSessionIndex;
  private readonly connection: RedisConnection;
  private readonly kind: RedisClientKind;
  private readonly waitReplicas: ResolvedWaitReplicas | undefined;
  /** Not on a Cluster, where a session key and its lease key hash to different slots. */
  readonly replaceAndRelease: SessionStore['replaceAndRelease'];

  /**
   * `redis`: a redis:// or rediss:// URL (the store opens and closes its own connection), a client
   * you own, or `{ url | client, waitReplicas }`.
   */
  constructor(redis: string | RedisClientLike | RedisStoreOptions = DEFAULT_REDIS_URL) {
    const { target, waitReplicas } = splitOption(redis);
    this.connection = typeof target === 'string' ? ownConnection(checkUrl(target)) : sharedConnection(checkClient(target));
    this.kind = typeof target === 'string' ? 'client' : clientKind(target);
    this.waitReplicas = resolveWaitReplicas(waitReplicas);
    this.replaceAndRelease =
      this.kind === 'cluster'
        ? undefined
        : (key, expected, value, ttlMs, leaseKey, token) =>
            this.compareAndSet(COMPARE_AND_SET_RELEASE, key, { keys: [key, leaseKey], arguments: [bytes(expected), bytes(value), px(ttlMs), bytes(token)] });
    this.userIndex = {
      add: async (userKey, sessionKey, ttlMs) => {
        await runScript(await this.commands(), USER_ADD, { keys: [userKey], arguments: [sessionKey, px(ttlMs)] });
      },
      remove: async (userKey, sessionKey) => {
        await (await this.commands()).sRem(userKey, [sessionKey]);
      },
      list: async (userKey) => {
        const commands = await this.commands();
        const members = (await commands.sMembers(userKey)).map(String);
        if (members.length === 0) return [];
        // Session keys hash to different Cluster slots, so no multi-key command or script can test
        // them together. Issued together, node-redis pipelines them (one round trip per node).
        const alive = await Promise.all(members.map((key) => commands.exists(key)));
        const gone = members.filter((_, i) => alive[i] === 0);
        if (gone.length > 0) await commands.sRem(userKey, gone);
        return members.filter((_, i) => alive[i] !== 0);
      },
    };
  }

  get(key: string, refreshTtlMs?: number): Promise<StoredValue | null> {
    const read = (commands: RedisCommands) =>
      refreshTtlMs === undefined ? commands.get(key) : commands.getEx(key, { type: 'PX', value: ms(refreshTtlMs) });
    // Every request with a cookie reads: when connected, send at once rather than after two promise hops.
    const ready = this.connection.readyNow();
    return ready ? read(ready) : this.commands().then(read);
  }

  async create(key: string, value: StoredValue, ttlMs: number): Promise<boolean> {
    const commands = await this.commands();
    const reply = await commands.set(key, bytes(value), { expiration: { type: 'PX', value: ms(ttlMs) }, condition: 'NX' });
    if (reply !== null && this.waitReplicas?.on === 'all') await waitForReplicas(commands, this.kind, key, this.waitReplicas, 'create');
    return reply !== null;
  }

  replace(key: string, expected: StoredValue, value: StoredValue, ttlMs: number): Promise<ReplaceResult> {
    return this.compareAndSet(COMPARE_AND_SET, key, { keys: [key], arguments: [bytes(expected), bytes(value), px(ttlMs)] });
  }

  private compareAndSet(lua: LuaScript, key: string, options: EvalArguments): Promise<ReplaceResult> {
    const ready = this.connection.readyNow();
    // Every write: when connected and no WAIT follows, the script goes out at once (no async hops).
    if (ready && this.waitReplicas?.on !== 'all') return runScript(ready, lua, options, compareAndSetResult);
    return this.compareAndSetAndWait(lua, key, options);
  }

  private async compareAndSetAndWait(lua: LuaScript, key: string, options: EvalArguments): Promise<ReplaceResult> {
    const commands = await this.commands();
    const result = await runScript(commands, lua, options, compareAndSetResult);
    if (result.status === 'ok' && this.waitReplicas?.on === 'all') await waitForReplicas(commands, this.kind, key, this.waitReplicas, 'write');
    return result;
  }

  async deleteIf(key: string, expected: StoredValue): Promise<ReplaceResult> {
    const commands = await this.commands();
    const result = await runScript(commands, COMPARE_AND_DELETE, { keys: [key], arguments: [bytes(expected)] }, compareAndDeleteResult);
    if (result.status === 'ok' && this.waitReplicas) await waitForReplicas(commands, this.kind, key, this.waitReplicas, 'delete');
    return result;
  }

  async delete(key: string): Promise<void> {
    const commands = await this.commands();
    const removed = await commands.del(key);
    if (removed > 0 && this.waitReplicas) await waitForReplicas(commands, this.kind, key, this.waitReplicas, 'delete');
  }

  async touch(key: string, ttlMs: number): Promise<void> {
    await (await this.commands()).pExpire(key, ms(ttlMs));
  }

  /**
   * Opens the store's own connection now instead of on the first request, and resolves once it is
   * ready (rejects on the first failed attempt; node-redis keeps retrying in the background). A
   * client you passed in is only checked: it must be connected. `middleware.ready()` calls this,
   * within `storeTimeout`.
   */
  ready(): Promise<void> {
    return this.connection.ready();
  }

  /** The same as `ready()` (its earlier name). */
  connect(): Promise<void> {
    return this.connection.ready();
  }

  /** Closes the connection this store opened from a URL; a client you passed in stays open. */
  close(): Promise<void> {
    return this.connection.close();
  }

  private commands(): Promise<RedisCommands> {
    return this.connection.commands();
  }
}

const compareAndSetResult = (reply: unknown): ReplaceResult => scriptResult('compare-and-set', reply);
const compareAndDeleteResult = (reply: unknown): ReplaceResult => scriptResult('compare-and-delete', reply);

/** The reply of COMPARE_AND_SET / COMPARE_AND_DELETE: 1 done, 0 missing, the current bytes on a conflict. */
function scriptResult(what: string, reply: unknown): ReplaceResult {
  if (reply === 1) return { status: 'ok' };
  if (reply === 0) return { status: 'missing' };
  if (Buffer.isBuffer(reply)) return { status: 'conflict', current: reply };
  throw new Error(`unexpected ${what} reply from Redis: ${String(reply)}`);
}

/** Redis wants whole milliseconds, at least one. */
function ms(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs));
}

function px(ttlMs: number): string {
  return String(ms(ttlMs));
}

/** Strings go as they are (node-redis writes them as UTF-8); bytes as a Buffer view, without copying. */
function bytes(value: StoredValue): string | Buffer {
  return typeof value === 'string' || Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** The three shapes of the `redis` option, as a connection target plus store options. */
function splitOption(redis: string | RedisClientLike | RedisStoreOptions): { target: string | RedisClientLike; waitReplicas?: WaitReplicasOptions } {
  if (typeof redis === 'string' || redis === null || typeof redis !== 'object') return { target: redis as string };
  if (typeof (redis as Partial<RedisClientLike>).withTypeMapping === 'function') return { target: redis as RedisClientLike };
  const options = redis as RedisStoreOptions;
  onlyKnownKeys('redis', options, ['url', 'client', 'waitReplicas'], 'a redis option');
  if (options.url !== undefined && options.client !== undefined) throw new SessionOptionsError('redis', 'takes url or client, not both');
  const target = options.client ?? options.url;
  if (target === undefined) throw new SessionOptionsError('redis', 'as an object needs url or client');
  return { target, waitReplicas: options.waitReplicas };
}

function checkUrl(url: string): string {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new SessionOptionsError('redis', `must be a redis:// or rediss:// URL or a node-redis client (got a string that is not a URL)`);
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    throw new SessionOptionsError('redis', `must be a redis:// or rediss:// URL or a node-redis client (got a ${protocol} URL)`);
  }
  return url;
}

function checkClient(client: unknown): RedisClientLike {
  const candidate = client as Partial<RedisClientLike> | null;
  if (
    candidate === null ||
    typeof candidate !== 'object' ||
    typeof candidate.withTypeMapping !== 'function' ||
    typeof candidate.on !== 'function' ||
    typeof candidate.listenerCount !== 'function'
  ) {
    throw new SessionOptionsError('redis', 'must be a redis:// or rediss:// URL or a node-redis client, cluster or sentinel (v5 or v6)');
  }
  return candidate as RedisClientLike;
}
