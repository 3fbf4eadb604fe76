// Just enough types for the foreign session stores the adapter specs run (the packages ship none).
// The adapter's own interfaces (ExpressSessionStoreLike, KoaSessionStoreLike) are what is checked.

declare module 'express-session' {
  type Callback = (error?: unknown, result?: unknown) => void;
  /** express-session's Store base class; connect stores extend it. */
  export class Store {
    get(sid: string, callback: Callback): void;
    set(sid: string, session: object, callback?: Callback): void;
    destroy(sid: string, callback?: Callback): void;
    touch?(sid: string, session: object, callback?: Callback): void;
    regenerate(req: unknown, callback: Callback): void;
    load(sid: string, callback: Callback): void;
    createSession(req: unknown, session: object): object;
  }
  export class MemoryStore extends Store {}
  export type SessionData = Record<string, unknown>;
  interface SessionMiddleware {
    Store: typeof Store;
    MemoryStore: typeof MemoryStore;
  }
  const session: SessionMiddleware;
  export default session;
}

declare module 'connect-pg-simple' {
  import type { Store } from 'express-session';
  interface PGStoreOptions {
    conString?: string;
    tableName?: string;
    createTableIfMissing?: boolean;
    pruneSessionInterval?: false | number;
    errorLog?: (...args: unknown[]) => void;
  }
  class PGStore extends Store {
    constructor(options?: PGStoreOptions);
    close(): Promise<void>;
  }
  export default function connectPgSimple(session: unknown): typeof PGStore;
}

declare module 'koa-redis' {
  interface KoaRedisOptions {
    url?: string;
    [option: string]: unknown;
  }
  interface KoaRedisStore {
    get(key: string, maxAge?: unknown, options?: unknown): Promise<unknown>;
    set(key: string, session: unknown, maxAge?: unknown, options?: unknown): Promise<void>;
    destroy(key: string, options?: unknown): Promise<void>;
    quit(): Promise<void>;
    readonly client: { quit(): Promise<unknown>; disconnect(): void };
  }
  export default function redisStore(options?: KoaRedisOptions): KoaRedisStore;
}
