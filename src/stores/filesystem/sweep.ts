import { opendir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as yieldToRequests } from 'node:timers/promises';
import { breakIfStale } from './lock.js';

export interface SweepOptions {
  directory: string;
  maxEntries: number;
  lockStaleMs: number;
  /** Removes a session or user file under its lock if it is (still) expired, or unconditionally with `force`. */
  remove(path: string, force: boolean): Promise<void>;
}

/** Files per batch between yields, so a sweep of a large directory never holds the event loop. */
const BATCH = 64;
/** Temp files live for milliseconds; one this old was left by a process that died mid-write. */
const ORPHAN_TEMP_MS = 60_000;

/**
 * One pass over the directory: removes expired sessions and user indexes, orphaned temp files and
 * stale locks, then evicts the sessions closest to expiry (least recently written or refreshed,
 * since every session gets the same lifetime) while there are more than `maxEntries`. Async and
 * incremental: stats one file at a time and yields to pending I/O every few dozen entries.
 */
export async function sweep(options: SweepOptions): Promise<{ removed: number; evicted: number }> {
  const live: Array<{ path: string; expiresAt: number }> = [];
  let removed = 0;
  let seen = 0;
  const dir = await opendir(options.directory, { bufferSize: BATCH });
  for await (const entry of dir) {
    if (++seen % BATCH === 0) await yieldToRequests();
    if (!entry.isFile()) continue;
    const path = join(options.directory, entry.name);
    const info = await stat(path).catch(() => null);
    if (!info) continue;
    const now = Date.now();
    if (entry.name.endsWith('.s') || entry.name.endsWith('.u')) {
      if (info.mtimeMs > now) {
        if (entry.name.endsWith('.s')) live.push({ path, expiresAt: info.mtimeMs });
        continue;
      }
      await options.remove(path, false);
      removed++;
    } else if (entry.name.startsWith('.tmp-')) {
      // A temp file's mtime is already its future expiry; ctime is when it was last written.
      if (now - info.ctimeMs > ORPHAN_TEMP_MS) await unlink(path).catch(() => undefined);
    } else if (entry.name.endsWith('.lock')) {
      await breakIfStale(path, options.lockStaleMs);
    }
  }
  let evicted = 0;
  if (live.length > options.maxEntries) {
    live.sort((a, b) => a.expiresAt - b.expiresAt);
    for (const { path } of live.slice(0, live.length - options.maxEntries)) {
      if (++evicted % BATCH === 0) await yieldToRequests();
      await options.remove(path, true);
    }
  }
  return { removed, evicted };
}
