// Types of servers.mjs (plain JavaScript, so the bench needs no TypeScript loader).
import type { ChildProcess } from 'node:child_process';

export interface ServerProcess {
  readonly port: number;
  readonly child: ChildProcess;
  /** What the process printed so far, stdout and stderr. */
  output(): string;
  /** Stops the process (SIGKILL after a grace period) and waits for it to exit. */
  stop(): Promise<void>;
}

export interface RedisProcess {
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
  /** Starts the server again on the same port, with the same arguments (after `stop`). */
  restart(): Promise<void>;
}

export interface MemcachedServer extends ServerProcess {
  /** `127.0.0.1:port`, as memjs takes it. */
  readonly address: string;
  /** Restarts on the same port (an empty cache, as after a real restart). */
  restart(): Promise<MemcachedServer>;
}

export interface MemcachedOptions {
  port?: number;
  /** Largest item, memcached's `-I` (`1m`, ...). */
  itemSize?: string;
  /** Cache size in MB (`-m`, default 64). */
  memoryMb?: number;
  /** Worker threads (`-t`, memcached's default 4). */
  threads?: number;
}

export function freePort(): Promise<number>;
export function tempDir(prefix: string): { path: string; remove: () => void };
export function waitForPort(port: number, timeoutMs?: number): Promise<void>;
export function startServer(
  command: string,
  args: string[],
  port: number,
  options?: { cwd?: string; env?: Record<string, string>; readyTimeoutMs?: number },
): Promise<ServerProcess>;
export function askTcp(port: number, command: string, complete: (reply: string) => boolean): Promise<string>;
export function redisArgs(port: number, dir: string, extra?: string[]): string[];
export function startRedis(options: { dir: string; port?: number; args?: (port: number) => string[] }): Promise<RedisProcess>;
export function memcachedBinary(): string;
export function startMemcached(options?: MemcachedOptions): Promise<MemcachedServer>;
