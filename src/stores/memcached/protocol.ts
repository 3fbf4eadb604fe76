import { SessionOptionsError } from '../../errors.js';

/**
 * The few memcached binary-protocol requests the memcached store needs, sent over memjs's server
 * connections. memjs (1.3) has no gets/cas and no get-and-touch in its public API, and its
 * `perform()` retries and, with `failover`, sends a key to another server: both are wrong for
 * sessions (a retried CAS is not the same request; a key written to a stand-in server comes back to
 * life when its home server returns). So each request goes to the key's home server only, once, and
 * its outcome is reported as is.
 *
 * That means driving memjs below its public API: `client.seq` / `incrSeq()` (the request counter
 * its responses are matched by), `getServer()` (its hash, documented as overridable), and each
 * server's `onResponse` / `onError` / `write`. They are not a stable interface, so the peer range is
 * pinned to the memjs versions the specs run (`~1.3.2`; 1.3.0 has no `getServer`), and
 * `checkMemjsInternals` refuses, at start-up, a memjs without them (a newer or older release) with a
 * clear error instead of failing on the first request. A client of our own over `net.Socket` would
 * need memjs's connection handling (timeouts, reconnects, SASL) rewritten, and an application's own
 * memjs client could no longer be shared.
 */

/** The memjs versions this store is written against: the peer range in package.json. */
export const MEMJS_RANGE = '~1.3.2';

/** The part of a memjs `Server` this store uses (public in memjs and its typings). */
export interface MemjsServerLike {
  readonly host: string;
  readonly port: number;
  onResponse(seq: number, fn: (response: MemjsResponse) => void): void;
  onError(seq: number, fn: (error: Error | string) => void): void;
  write(blob: Uint8Array): void;
}

/** The part of a memjs `Client` this store uses: its servers, key hashing and request counter. */
export interface MemjsClientLike {
  readonly servers: readonly MemjsServerLike[];
  readonly seq: number;
  incrSeq(): void;
  /** memjs returns the server index (typed as string in @types/memjs; a number at run time). */
  getServer(key: string): number | string;
  close(): void;
}

/**
 * What this store needs from a memjs client below its public API, each named, or [] when all is
 * there. Checked on the client's shape (the store's own or the application's), without sending.
 */
export function missingMemjsInternals(client: unknown): string[] {
  const c = (client ?? {}) as Record<string, unknown>;
  const missing: string[] = [];
  if (typeof c.seq !== 'number') missing.push('client.seq');
  for (const method of ['incrSeq', 'getServer', 'close']) if (typeof c[method] !== 'function') missing.push(`client.${method}()`);
  const servers = c.servers;
  if (!Array.isArray(servers) || servers.length === 0) missing.push('client.servers');
  else {
    const server = servers[0] as Record<string, unknown>;
    if (typeof server.host !== 'string' || typeof server.port !== 'number') missing.push('server.host / server.port');
    for (const method of ['onResponse', 'onError', 'write']) if (typeof server[method] !== 'function') missing.push(`server.${method}()`);
  }
  return missing;
}

/** Throws a `SessionOptionsError` naming what is missing, for `option` (`memcached` or `memcached.client`). */
export function checkMemjsInternals(client: unknown, option: string): void {
  const missing = missingMemjsInternals(client);
  if (missing.length === 0) return;
  throw new SessionOptionsError(option, `needs memjs ${MEMJS_RANGE} (the store drives memjs below its public API, see docs/stores.md#memcached): this memjs client has no ${missing.join(', ')}`);
}

export interface MemjsResponse {
  header: { status: number; opcode: number; cas: Buffer };
  val: Buffer;
}

export const Opcode = { get: 0x00, set: 0x01, add: 0x02, delete: 0x04, touch: 0x1c, gat: 0x1d } as const;
export const Status = { ok: 0, notFound: 1, exists: 2, tooLarge: 3, notStored: 5 } as const;

const STATUS_TEXT: Record<number, string> = {
  1: 'key not found', 2: 'key exists', 3: 'value too large', 4: 'invalid arguments', 5: 'item not stored',
  6: 'incr/decr on a non-numeric value', 0x20: 'authentication required', 0x81: 'unknown command', 0x82: 'out of memory',
};

/** memcached reads an expiration above 30 days as an absolute Unix time. */
export const MAX_RELATIVE_EXPIRATION = 30 * 24 * 60 * 60;

/**
 * The expiration field for a TTL in ms: whole seconds rounded UP (a session never ends early), and
 * above 30 days an absolute Unix time, since memcached would otherwise read e.g. 31 days as a date
 * in January 1970 and expire the item at once.
 */
export function expirationFor(ttlMs: number, nowMs = Date.now()): number {
  const seconds = Math.max(1, Math.ceil(ttlMs / 1000));
  return seconds > MAX_RELATIVE_EXPIRATION ? Math.ceil(nowMs / 1000) + seconds : seconds;
}

export class MemcachedProtocolError extends Error {
  constructor(
    readonly server: string,
    readonly status: number,
    operation: string,
  ) {
    super(`memcached ${server} ${operation}: ${STATUS_TEXT[status] ?? `status 0x${status.toString(16)}`}`);
    this.name = 'MemcachedProtocolError';
  }
}

export interface Request {
  opcode: number;
  key: string;
  extras?: Buffer;
  value?: Uint8Array;
  /** 8-byte CAS token from an earlier response: the request only applies to that version. */
  cas?: Buffer;
}

/** The key's home server, by memjs's own hashing (so an application's client finds the same keys). */
export function serverFor(client: MemjsClientLike, key: string): MemjsServerLike {
  const index = client.servers.length > 1 ? Number(client.getServer(key)) : 0;
  const server = client.servers[index];
  if (!server) throw new Error(`memjs picked no server for a key (index ${index} of ${client.servers.length})`);
  return server;
}

/** One request to the key's home server; resolves with the response whatever its status. */
export function send(client: MemjsClientLike, request: Request): Promise<MemjsResponse> {
  const server = serverFor(client, request.key);
  client.incrSeq();
  // memjs wraps its counter with `&= 0xffffffff`, which turns negative past 2^31; responses carry it unsigned.
  const seq = client.seq >>> 0;
  const buffer = encode(request, seq);
  return new Promise((resolve, reject) => {
    server.onResponse(seq, resolve);
    server.onError(seq, (error) => {
      const message = typeof error === 'string' ? error : error.message;
      reject(new Error(`memcached ${server.host}:${server.port}: ${message}`, { cause: error }));
    });
    server.write(buffer);
  });
}

export function describeServer(client: MemjsClientLike, key: string): string {
  const server = serverFor(client, key);
  return `${server.host}:${server.port}`;
}

function encode(request: Request, seq: number): Buffer {
  const key = Buffer.from(request.key, 'utf8');
  const extras = request.extras ?? Buffer.alloc(0);
  const value = request.value ?? new Uint8Array(0);
  const buffer = Buffer.alloc(24 + extras.length + key.length + value.byteLength);
  buffer.writeUInt8(0x80, 0); // request magic
  buffer.writeUInt8(request.opcode, 1);
  buffer.writeUInt16BE(key.length, 2);
  buffer.writeUInt8(extras.length, 4);
  buffer.writeUInt32BE(extras.length + key.length + value.byteLength, 8);
  buffer.writeUInt32BE(seq, 12);
  if (request.cas) request.cas.copy(buffer, 16, 0, 8);
  extras.copy(buffer, 24);
  key.copy(buffer, 24 + extras.length);
  buffer.set(value, 24 + extras.length + key.length);
  return buffer;
}

/** SET / ADD extras: 4 bytes of flags (unused: values are opaque bytes) and the expiration. */
export function storageExtras(expiration: number): Buffer {
  const extras = Buffer.alloc(8);
  extras.writeUInt32BE(expiration, 4);
  return extras;
}

/** TOUCH / GAT extras: the expiration alone. */
export function expirationExtras(expiration: number): Buffer {
  const extras = Buffer.alloc(4);
  extras.writeUInt32BE(expiration, 0);
  return extras;
}
