// Throwaway memcached servers: started by scripts/servers.mjs (shared with the bench), which fails
// loudly when memcached is missing (scripts/install-system-deps.sh installs it; no apt-get here).
import { askTcp } from '../../scripts/servers.mjs';

export { memcachedBinary, startMemcached, type MemcachedServer } from '../../scripts/servers.mjs';

/** Keys a server holds (text protocol `lru_crawler metadump all`), to show where keys landed. */
export async function keysOn(port: number): Promise<string[]> {
  const text = await askTcp(port, 'lru_crawler metadump all\r\n', (reply) => reply.endsWith('END\r\n'));
  return [...text.matchAll(/^key=(\S+)/gm)].map((m) => decodeURIComponent(m[1]!));
}

/** `mg`-style raw lookup of one key's remaining TTL in seconds (-1: never expires), or null if absent. */
export async function ttlOf(port: number, key: string): Promise<number | null> {
  const text = await askTcp(port, `mg ${key} t\r\n`, (reply) => reply.endsWith('\r\n'));
  if (text.startsWith('EN')) return null;
  const match = /\bt(-?\d+)/.exec(text);
  if (!match) throw new Error(`unexpected reply ${text}`);
  return Number(match[1]);
}
