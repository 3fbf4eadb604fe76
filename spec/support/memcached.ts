import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { freePort, startServer, type ServerProcess } from './process.js';

const BINARY = '/usr/bin/memcached';

/**
 * The memcached binary, installed with apt when missing and running as root. Anything else fails
 * loudly: these specs never skip silently.
 */
export function memcachedBinary(): string {
  if (existsSync(BINARY)) return BINARY;
  if (process.getuid?.() === 0) {
    execFileSync('apt-get', ['update'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', 'memcached'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (existsSync(BINARY)) return BINARY;
  }
  throw new Error(`memcached is not installed (${BINARY} missing); run as root to install it, or: apt-get install -y memcached`);
}

export interface MemcachedServer extends ServerProcess {
  readonly address: string;
  /** Restarts on the same port (an empty cache, as after a real restart). */
  restart(): Promise<MemcachedServer>;
}

/** A throwaway memcached on a free port (or `port`), 64 MB, `itemSize` like `-I 1m`. */
export async function startMemcached(options: { port?: number; itemSize?: string } = {}): Promise<MemcachedServer> {
  const binary = memcachedBinary();
  const port = options.port ?? (await freePort());
  const args = ['-p', String(port), '-U', '0', '-l', '127.0.0.1', '-m', '64'];
  if (process.getuid?.() === 0) args.push('-u', 'root');
  if (options.itemSize) args.push('-I', options.itemSize);
  const server = await startServer(binary, args, port);
  return { ...server, address: `127.0.0.1:${port}`, restart: () => startMemcached({ ...options, port }) };
}

/** Keys a server holds (text protocol `lru_crawler metadump all`), to show where keys landed. */
export function keysOn(port: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.endsWith('END\r\n')) {
        socket.end();
        resolve([...text.matchAll(/^key=(\S+)/gm)].map((m) => decodeURIComponent(m[1]!)));
      }
    });
    socket.on('error', reject);
    socket.write('lru_crawler metadump all\r\n');
  });
}

/** `mg`-style raw lookup of one key's remaining TTL in seconds (-1: never expires), or null if absent. */
export function ttlOf(port: number, key: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.endsWith('\r\n')) {
        socket.end();
        if (text.startsWith('EN')) resolve(null);
        else {
          const match = /\bt(-?\d+)/.exec(text);
          match ? resolve(Number(match[1])) : reject(new Error(`unexpected reply ${text}`));
        }
      }
    });
    socket.on('error', reject);
    socket.write(`mg ${key} t\r\n`);
  });
}
