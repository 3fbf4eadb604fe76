import { DEFAULTS } from '../../defaults.js';
import { SessionOptionsError, SessionTooLargeError } from '../../errors.js';
import { onlyKnownKeys, positiveInt } from '../../validate.js';
import { loadDriver } from '../load-driver.js';
import {
  checkMemjsInternals,
  describeServer,
  expirationExtras,
  expirationFor,
  MemcachedProtocolError,
  Opcode,
  send,
  Status,
  storageExtras,
  type MemjsClientLike,
  type MemjsResponse,
} from './protocol.js';
import { byteLength, sameStoredValue, toBytes, type StoredValue } from '../../stored-value.js';
import type { ReplaceResult, SessionStore } from '../store.js';

export type { MemjsClientLike } from './protocol.js';

export interface MemcachedStoreOptions {
  /** `"host:port,host:port"` (memjs syntax, `user:pass@` allowed). The store owns and closes this client. Default `127.0.0.1:11211`. */
  servers?: string;
  /** A memjs client the application already has (`memjs.Client.create(...)`); never closed by the store. */
  client?: MemjsClientLike;
  /** Largest item the servers accept (memcached `-I`), in bytes. Default 1 MiB, memcached's default. */
  itemLimit?: number;
  /** Per-request timeout of the store's own client, in ms (connecting gets twice this). Default 500. */
  timeout?: number;
}

/** `memcached` option: a servers string, a memjs client, or the full options object. */
export type MemcachedOption = string | MemjsClientLike | MemcachedStoreOptions;

/**
 * Bytes memcached spends on an item besides the value and key (item header, CAS, flags, CRLF),
 * measured against memcached 1.6: a value of `itemLimit - key - ITEM_OVERHEAD` bytes is accepted.
 */
export const ITEM_OVERHEAD = 64;
const MAX_KEY_BYTES = 250;
const MAX_CAS_ATTEMPTS = 4;

/** The CAS token that came with a value this store handed out, so a replace of it costs one round trip. */
interface Version {
  key: string;
  cas: Buffer;
}

/**
 * Sessions in memcached, on memjs. One server or several (keys spread by memjs's hash; each key
 * only ever goes to its home server, see protocol.ts). Round trips: 1 per read (GET, or
 * GAT when rolling), 1 per create (ADD), 1 per replace when the session was read by this process
 * (SET with the CAS token of that read), 2 otherwise (GET for the token, then SET+CAS).
 * memcached cannot enumerate keys, so there is no user index.
 */
export class MemcachedStore implements SessionStore {
  readonly name = 'memcached';
  readonly itemLimit: number;
  private readonly client: Promise<MemjsClientLike>;
  private readonly ownsClient: boolean;
  private resolved: MemjsClientLike | undefined;
  private closed = false;
  /** Keyed by the Buffer objects `get` returned: the core hands the same object back as `expected`. */
  private readonly versions = new WeakMap<object, Version>();

  constructor(option: MemcachedOption = {}) {
    const options: MemcachedStoreOptions = typeof option === 'string' ? { servers: option } : isClient(option) ? { client: option } : option;
    if (options === null || typeof options !== 'object') {
      throw new SessionOptionsError('memcached', 'must be a servers string, a memjs client or an options object');
    }
    onlyKnownKeys('memcached', options, ['servers', 'client', 'itemLimit', 'timeout'], 'a memcached option');
    this.itemLimit = positiveInt('memcached.itemLimit', options.itemLimit, DEFAULTS.memcached.itemLimit);
    const timeout = positiveInt('memcached.timeout', options.timeout, DEFAULTS.memcached.timeout);
    if (options.client !== undefined) {
      if (options.servers !== undefined) throw new SessionOptionsError('memcached', 'takes servers or a client, not both');
      if (!isClient(options.client)) throw new SessionOptionsError('memcached.client', 'must be a memjs client (memjs.Client.create(...))');
      checkMemjsInternals(options.client, 'memcached.client');
      this.client = Promise.resolve(options.client);
      this.ownsClient = false;
    } else {
      const servers = options.servers ?? DEFAULTS.memcached.servers;
      checkServers(servers);
      this.client = createClient(servers, timeout);
      this.client.catch(() => undefined); // reported by the first operation, not as an unhandled rejection
      this.ownsClient = true;
    }
  }

  async get(key: string, refreshTtlMs?: number): Promise<StoredValue | null> {
    const response =
      refreshTtlMs === undefined
        ? await this.request('get', { opcode: Opcode.get, key })
        : await this.request('get', { opcode: Opcode.gat, key, extras: expirationExtras(expirationFor(refreshTtlMs)) });
    if (response.header.status === Status.notFound) return null;
    this.expectOk(key, 'get', response);
    return this.remember(key, response.val, response.header.cas);
  }

  async create(key: string, value: StoredValue, ttlMs: number): Promise<boolean> {
    const bytes = this.checkSize(key, value);
    const response = await this.request('create', { opcode: Opcode.add, key, extras: storageExtras(expirationFor(ttlMs)), value: bytes });
    if (response.header.status === Status.exists || response.header.status === Status.notStored) return false;
    this.expectOk(key, 'create', response);
    if (typeof value !== 'string') this.remember(key, value, response.header.cas);
    return true;
  }

  /**
   * Compare-and-set with memcached's CAS tokens: the SET applies only if the item is still the
   * version whose bytes were compared with `expected`, so two writers can never both win. A SET with
   * a CAS token on a missing key fails with "not found": replace never recreates a destroyed session.
   */
  async replace(key: string, expected: StoredValue, value: StoredValue, ttlMs: number): Promise<ReplaceResult> {
    const bytes = this.checkSize(key, value);
    let version = typeof expected === 'object' ? this.versions.get(expected) : undefined;
    let cas = version?.key === key ? version.cas : undefined;
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      if (!cas) {
        const current = await this.request('replace', { opcode: Opcode.get, key });
        if (current.header.status === Status.notFound) return { status: 'missing' };
        this.expectOk(key, 'replace', current);
        if (!sameStoredValue(current.val, expected)) return { status: 'conflict', current: this.remember(key, current.val, current.header.cas) };
        cas = current.header.cas;
      }
      const response = await this.request('replace', { opcode: Opcode.set, key, extras: storageExtras(expirationFor(ttlMs)), value: bytes, cas });
      if (response.header.status === Status.notFound) return { status: 'missing' };
      if (response.header.status !== Status.exists) {
        this.expectOk(key, 'replace', response);
        if (typeof value !== 'string') this.remember(key, value, response.header.cas);
        return { status: 'ok' };
      }
      // The item changed since the token was taken (another writer, or a touch): compare again.
      cas = undefined;
      version = undefined;
    }
    throw new Error(`memcached: the item kept changing during ${MAX_CAS_ATTEMPTS} compare-and-set attempts`);
  }

  async delete(key: string): Promise<void> {
    const response = await this.request('delete', { opcode: Opcode.delete, key });
    if (response.header.status !== Status.notFound) this.expectOk(key, 'delete', response);
  }

  /**
   * Compare-and-delete: a DELETE carrying the CAS token of the version compared with `expected`
   * (binary protocol), so a write that lands in between makes it fail with "exists" and is kept.
   */
  async deleteIf(key: string, expected: StoredValue): Promise<ReplaceResult> {
    const version = typeof expected === 'object' ? this.versions.get(expected) : undefined;
    let cas = version?.key === key ? version.cas : undefined;
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      if (!cas) {
        const current = await this.request('delete', { opcode: Opcode.get, key });
        if (current.header.status === Status.notFound) return { status: 'missing' };
        this.expectOk(key, 'delete', current);
        if (!sameStoredValue(current.val, expected)) return { status: 'conflict', current: this.remember(key, current.val, current.header.cas) };
        cas = current.header.cas;
      }
      const response = await this.request('delete', { opcode: Opcode.delete, key, cas });
      if (response.header.status === Status.notFound) return { status: 'missing' };
      if (response.header.status !== Status.exists) {
        this.expectOk(key, 'delete', response);
        return { status: 'ok' };
      }
      // Changed since the token was taken (another writer, or a touch): compare again.
      cas = undefined;
    }
    throw new Error(`memcached: the item kept changing during ${MAX_CAS_ATTEMPTS} compare-and-delete attempts`);
  }

  async touch(key: string, ttlMs: number): Promise<void> {
    const response = await this.request('touch', { opcode: Opcode.touch, key, extras: expirationExtras(expirationFor(ttlMs)) });
    if (response.header.status !== Status.notFound) this.expectOk(key, 'touch', response);
  }

  /**
   * One GET of a key no session uses, answered "not found": memjs connects on its first request, so
   * this opens the connection to the server that key maps to (with several servers, that one).
   */
  async ready(): Promise<void> {
    const response = await this.request('ready', { opcode: Opcode.get, key: 'koa-qsession:ready' });
    if (response.header.status !== Status.notFound) this.expectOk('koa-qsession:ready', 'ready', response);
  }

  /** Closes the client this store created; a client the application passed in stays open. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsClient) (await this.client.catch(() => undefined))?.close();
  }

  private async request(operation: string, request: Parameters<typeof send>[1]): Promise<MemjsResponse> {
    if (this.closed) throw new Error(`memcached store is closed (${operation})`);
    checkKey(request.key);
    this.resolved ??= await this.client;
    return send(this.resolved, request);
  }

  private remember(key: string, value: Buffer | Uint8Array, cas: Buffer): StoredValue {
    this.versions.set(value, { key, cas: Buffer.from(cas) });
    return value;
  }

  private expectOk(key: string, operation: string, response: MemjsResponse): void {
    const { status } = response.header;
    if (status === Status.ok) return;
    if (status === Status.tooLarge) throw new SessionTooLargeError(response.val.length, this.itemLimit, 'memcached item limit (the server refused it)');
    throw new MemcachedProtocolError(this.resolved ? describeServer(this.resolved, key) : '', status, operation);
  }

  /** Refuses, before anything is sent, a value the server would reject for its size. */
  private checkSize(key: string, value: StoredValue): Uint8Array {
    const size = byteLength(value);
    const room = this.itemLimit - Buffer.byteLength(key) - ITEM_OVERHEAD;
    if (size > room) {
      throw new SessionTooLargeError(size, room, `memcached item limit (memcached.itemLimit ${this.itemLimit} bytes, less the key and ${ITEM_OVERHEAD} bytes of item header)`);
    }
    return toBytes(value);
  }
}

function isClient(value: unknown): value is MemjsClientLike {
  const candidate = value as Partial<MemjsClientLike> | null;
  return typeof candidate === 'object' && candidate !== null && Array.isArray(candidate.servers) && typeof candidate.incrSeq === 'function';
}

/** memcached keys are at most 250 bytes with no spaces or control characters. The core's keys (prefix ≤ 100 + id ≤ 43) always fit. */
function checkKey(key: string): void {
  if (Buffer.byteLength(key) > MAX_KEY_BYTES || !/^[\x21-\x7e]+$/.test(key)) {
    throw new RangeError(`memcached key must be 1 to ${MAX_KEY_BYTES} bytes of printable ASCII without spaces (got ${Buffer.byteLength(key)} bytes)`);
  }
}

function checkServers(servers: unknown): void {
  const entry = /^(?:[^@\s,]+@)?[A-Za-z0-9.\-_]+(?::\d{1,5})?$|^(?:[^@\s,]+@)?\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/;
  if (typeof servers !== 'string' || servers.split(',').some((part) => !entry.test(part.trim()))) {
    throw new SessionOptionsError('memcached', `must be "host:port" or "host:port,host:port" (got ${JSON.stringify(servers)})`);
  }
}


/**
 * memjs is loaded when the store makes its own client (a missing package fails here, at start-up), so
 * applications on other stores never load it. A memjs without the internals the store drives fails
 * here too, with a `SessionOptionsError` naming what is missing.
 */
function createClient(servers: string, timeoutMs: number): Promise<MemjsClientLike> {
  const memjs = loadDriver('memjs', 'memcached') as { Client?: MemjsFactory; default?: { Client: MemjsFactory } };
  const factory = memjs.Client ?? memjs.default?.Client;
  if (!factory) return Promise.reject(new Error('memjs did not export Client'));
  let client: MemjsClientLike;
  try {
    client = factory.create(servers, {
      // Only memjs's connection handling is used (see protocol.ts); these keep it bounded and quiet.
      failover: false,
      retries: 1,
      timeout: timeoutMs / 1000,
      conntimeout: (2 * timeoutMs) / 1000,
      keepAlive: true,
      logger: { log: () => undefined },
    });
  } catch (error) {
    // memjs's own failures stay where they were: reported by the first operation.
    return Promise.reject(error);
  }
  checkMemjsInternals(client, 'memcached');
  return Promise.resolve(client);
}

interface MemjsFactory {
  create(servers: string, options: Record<string, unknown>): MemjsClientLike;
}
