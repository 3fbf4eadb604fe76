import { loadDriver } from '../load-driver.js';

/** node-redis's `TypeMapping`, structurally: the published types must not need `redis` installed. */
type TypeMapping = Record<number, unknown>;

/**
 * What the Redis store accepts as `redis:` besides a URL: a node-redis v5 or v6 client (`createClient`),
 * cluster (`createCluster`) or sentinel (`createSentinel`), connected by the application.
 * Structural on purpose, so clients created with modules, scripts or RESP3 all fit.
 */
export interface RedisClientLike {
  withTypeMapping(mapping: TypeMapping): object;
  on(event: 'error', listener: (error: Error) => void): unknown;
  listenerCount(event: 'error'): number;
  readonly isOpen: boolean;
}

type Bytes = Buffer;
type Px = { type: 'PX'; value: number };
export interface EvalArguments {
  keys: string[];
  arguments: Array<string | Buffer>;
}

/**
 * The commands the store sends, as typed on a client whose bulk-string replies are mapped to
 * Buffers (so binary values round-trip and values are compared as bytes, never as decoded text).
 * Every method routes by its first key, which is what makes the same code work on a Cluster.
 */
export interface RedisCommands {
  get(key: string): Promise<Bytes | null>;
  getEx(key: string, options: Px): Promise<Bytes | null>;
  set(key: string, value: string | Bytes, options: { expiration: Px; condition: 'NX' }): Promise<unknown>;
  del(key: string): Promise<number>;
  pExpire(key: string, ms: number): Promise<number>;
  exists(key: string): Promise<number>;
  sMembers(key: string): Promise<Array<Bytes | string>>;
  sRem(key: string, members: string[]): Promise<number>;
  evalSha(sha1: string, options: EvalArguments): Promise<unknown>;
  eval(script: string, options: EvalArguments): Promise<unknown>;
}

export interface RedisConnection {
  /** Where commands go; rejects quickly when the store's own connection is known to be down. */
  commands(): Promise<RedisCommands>;
  /** The commands when the connection is up right now, else undefined: lets a request skip two promise hops. */
  readyNow(): RedisCommands | undefined;
  /** Connects now (own connection) and resolves once commands can be sent; a shared client must be open. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

// RESP_TYPES.BLOB_STRING: a protocol constant ('$'), written out so that a shared client needs no import of `redis`.
const BLOB_STRING = 36;
const BUFFER_REPLIES: TypeMapping = { [BLOB_STRING]: Buffer };

/** Retry forever, quickly at first, never slower than once a second: sessions come back soon after Redis does. */
const reconnectDelay = (retries: number): number => Math.min(50 * 2 ** Math.min(retries, 5), 1000);

/**
 * A client the application passed in: used as it is. It is never connected or closed here; an
 * 'error' listener is added only when it has none, so that a connection error cannot crash the
 * process through an unhandled 'error' event just because sessions use the client.
 */
export function sharedConnection(client: RedisClientLike): RedisConnection {
  if (client.listenerCount('error') === 0) client.on('error', () => undefined);
  const commands = client.withTypeMapping(BUFFER_REPLIES) as unknown as RedisCommands;
  const notOpen = () => new Error('the client passed as `redis` is not connected (call `await client.connect()` first)');
  return {
    commands: () => (client.isOpen ? Promise.resolve(commands) : Promise.reject(notOpen())),
    readyNow: () => (client.isOpen ? commands : undefined),
    // The application connects its client (and node-redis reconnects it): only check that it did.
    ready: () => (client.isOpen ? Promise.resolve() : Promise.reject(notOpen())),
    close: async () => undefined,
  };
}

interface OwnClient extends RedisClientLike {
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  close(): Promise<void>;
  destroy(): void;
  on(event: 'error' | 'ready', listener: (error: Error) => void): unknown;
  off(event: 'error' | 'ready', listener: (error: Error) => void): unknown;
}

/**
 * The store's own single connection to `url`, opened on first use (so `qsession()` stays
 * synchronous, and a store that is made but never used leaves no socket keeping the process
 * alive). The offline queue is off: while the connection is down a command fails at once instead
 * of waiting, and node-redis keeps reconnecting in the background.
 */
export function ownConnection(url: string): RedisConnection {
  // Loaded now, at start-up: a missing `redis` package fails qsession(), and the hundreds of
  // milliseconds node-redis takes to load are not paid by the first request inside its storeTimeout.
  // Only Redis users get here: memory-only users never load it, and need not install it.
  const loading = Promise.resolve(loadDriver('redis', 'redis') as { createClient(options: object): unknown });
  let client: OwnClient | undefined;
  let opening: Promise<RedisCommands> | undefined;
  let opened: RedisCommands | undefined;
  let closed = false;
  // The latest connection error since the connection was last ready: set means "down, fail fast".
  let lastError: Error | undefined;

  async function open(): Promise<RedisCommands> {
    const { createClient } = await loading;
    if (closed) throw new Error('the store is closed');
    const created = createClient({ url, disableOfflineQueue: true, socket: { reconnectStrategy: reconnectDelay } }) as unknown as OwnClient;
    created.on('error', (error) => (lastError = error));
    created.on('ready', () => (lastError = undefined));
    client = created;
    // Not awaited: the first commands wait for 'ready' below, later ones never wait for a reconnect.
    created.connect().catch(() => undefined);
    opened = created.withTypeMapping(BUFFER_REPLIES) as unknown as RedisCommands;
    return opened;
  }

  function notConnected(cause: Error): Error {
    return new Error(`not connected to ${redactUrl(url)}: ${cause.message || cause.name}`, { cause });
  }

  /** The first connection attempt is still running: wait for it to succeed or fail, whichever comes first. */
  function settled(c: OwnClient): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (error?: Error) => {
        c.off('ready', onReady);
        c.off('error', onError);
        if (error) reject(error);
        else resolve();
      };
      const onReady = () => done();
      const onError = (error: Error) => done(error);
      c.on('ready', onReady);
      c.on('error', onError);
    });
  }

  return {
    readyNow: () => (!closed && client?.isReady ? opened : undefined),
    async commands() {
      if (closed) throw new Error('the store is closed');
      const commands = await (opening ??= open());
      const c = client as OwnClient;
      if (c.isReady) return commands;
      if (lastError) throw notConnected(lastError);
      await settled(c).catch((error: Error) => Promise.reject(notConnected(error)));
      return commands;
    },
    async ready() {
      await (opening ??= open());
      const c = client as OwnClient;
      if (!c.isReady) await settled(c).catch((error: Error) => Promise.reject(notConnected(error)));
    },
    async close() {
      closed = true;
      if (!client) return;
      const c = client;
      client = undefined;
      // close() lets in-flight commands finish; a client that is reconnecting has none and is just stopped.
      if (c.isReady) await c.close().catch(() => c.destroy());
      else if (c.isOpen) c.destroy();
    },
  };
}

/** The URL without its password, for error messages that end up in logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'redis';
  }
}
