/**
 * EXPERIMENTAL: a Redis store on Bun's built-in client (`Bun.RedisClient`), for apps that run on
 * Bun and want no Redis package. It passes the same store contract as the other stores, but Bun's
 * client is young and its API may change under it; on Node use the `redis` store.
 *
 * Import it from `koa-qsession/bun-redis`, never from the main entry: it needs the `Bun` global,
 * which Node does not have.
 *
 * Bun's client turns every bulk-string reply of `send()` into a JS string by UTF-8 decoding, which
 * is exact for text (the tagged-JSON and JSON serializers) but lossy for bytes (v8). So a reply
 * that decoded with a replacement character (U+FFFD, which every invalid sequence becomes) is read
 * again with `getBuffer()`, the one call that keeps bytes. Text sessions cost one round trip per
 * operation; binary ones one more on reads.
 */
import type { StoredValue } from '../../stored-value.js';
import type { ReplaceResult, SessionStore } from '../store.js';
import { COMPARE_AND_DELETE, COMPARE_AND_SET } from './scripts.js';

/** The part of `Bun.RedisClient` this store uses (typed here so that Node builds need no bun-types). */
export interface BunRedisClientLike {
  send(command: string, args: Array<string | Uint8Array>): Promise<unknown>;
  getBuffer(key: string): Promise<Uint8Array | null>;
  close(): void;
}

export interface BunRedisStoreOptions {
  /** A client you made (`new RedisClient(url, options)` or `Bun.redis`); you close it. */
  client?: BunRedisClientLike;
  /** Where to connect when no client is given. Default: Bun's own (REDIS_URL, else localhost:6379). */
  url?: string;
}

type BunGlobal = { Bun?: { RedisClient: new (url?: string) => BunRedisClientLike } };

const REPLACEMENT_CHARACTER = '\uFFFD';

/** Redis takes whole milliseconds, at least one. */
const px = (ttlMs: number) => String(Math.max(1, Math.ceil(ttlMs)));
/** Bun sends a Uint8Array argument as raw bytes; a string as UTF-8. */

export class BunRedisStore implements SessionStore {
  readonly name = 'bun-redis';
  readonly client: BunRedisClientLike;
  private readonly ownsClient: boolean;

  constructor(options: BunRedisStoreOptions = {}) {
    if (options.client) {
      this.client = options.client;
      this.ownsClient = false;
      return;
    }
    const RedisClient = (globalThis as BunGlobal).Bun?.RedisClient;
    if (!RedisClient) {
      throw new Error('BunRedisStore needs Bun (Bun.RedisClient); on Node use the "redis" store type');
    }
    this.client = new RedisClient(options.url);
    this.ownsClient = true;
  }

  async get(key: string, refreshTtlMs?: number): Promise<StoredValue | null> {
    const reply = refreshTtlMs === undefined ? await this.client.send('GET', [key]) : await this.client.send('GETEX', [key, 'PX', px(refreshTtlMs)]);
    return this.exact(key, reply);
  }

  async create(key: string, value: StoredValue, ttlMs: number): Promise<boolean> {
    return (await this.client.send('SET', [key, value, 'NX', 'PX', px(ttlMs)])) === 'OK';
  }

  async replace(key: string, expected: StoredValue, value: StoredValue, ttlMs: number): Promise<ReplaceResult> {
    // The same script as the node-redis store's: 0 = missing, 1 = replaced, a bulk string = conflict.
    const reply = await this.client.send('EVAL', [COMPARE_AND_SET.source, '1', key, expected, value, px(ttlMs)]);
    return this.scriptResult(key, reply);
  }

  async deleteIf(key: string, expected: StoredValue): Promise<ReplaceResult> {
    return this.scriptResult(key, await this.client.send('EVAL', [COMPARE_AND_DELETE.source, '1', key, expected]));
  }

  /** 0 = missing, 1 = done, a bulk string = conflict (read again byte-exact when it is not clean text). */
  private async scriptResult(key: string, reply: unknown): Promise<ReplaceResult> {
    if (reply === 0) return { status: 'missing' };
    if (reply === 1) return { status: 'ok' };
    const current = await this.exact(key, reply);
    // The key vanished between the script and the byte-exact re-read: it is gone.
    return current === null ? { status: 'missing' } : { status: 'conflict', current };
  }

  async delete(key: string): Promise<void> {
    await this.client.send('DEL', [key]);
  }

  async touch(key: string, ttlMs: number): Promise<void> {
    await this.client.send('PEXPIRE', [key, px(ttlMs)]);
  }

  /** One PING: Bun's client connects on its first command, so this opens the connection too. */
  async ready(): Promise<void> {
    await this.client.send('PING', []);
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.close();
  }

  /** The reply as stored: a string when it decoded cleanly, else the bytes, read again. */
  private async exact(key: string, reply: unknown): Promise<StoredValue | null> {
    if (reply === null || reply === undefined) return null;
    if (typeof reply === 'string' && !reply.includes(REPLACEMENT_CHARACTER)) return reply;
    if (reply instanceof Uint8Array) return reply;
    return this.client.getBuffer(key);
  }
}
