// Just enough types for koa-redis, which ships none (its @types package pulls in ioredis 4's).
// connect-pg-simple and express-session come with their @types packages: the real typings are the
// ones the adapter's interfaces must accept.

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
