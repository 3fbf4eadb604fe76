import { randomBytes } from 'node:crypto';
import { link, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeyedQueue } from '../keyed-queue.js';

/**
 * A per-file lock that holds across processes sharing one directory: `<file>.lock`, created with
 * O_EXCL (`wx`), so exactly one process creates it. Writers of a session (replace, delete, evict)
 * take it; readers never do, because every write lands with an atomic rename and a reader sees
 * either the old file or the new one, never a gap or half a file.
 *
 * A lock older than `staleMs` belonged to a process that died while holding it (operations hold it
 * for milliseconds) and is broken: renamed to a unique name first, so that of two processes that
 * both find it stale only one removes it; if the renamed file turns out to be a fresh lock (someone
 * broke and re-took it in between), it is linked back.
 */
export function withLock<T>(file: string, staleMs: number, critical: (stillHeld: () => void) => Promise<T>): Promise<T> {
  // Callers in this process queue here first, so at most one of them polls the lock file: a crowd
  // of pollers would fill libuv's thread pool and slow down the holder they are waiting for. No
  // hold time: a file operation settles, and taking the lock gives up on its own after staleMs.
  return queue.run(file, () => withFileLock(file, staleMs, critical));
}

const queue = new KeyedQueue();

async function withFileLock<T>(file: string, staleMs: number, critical: (stillHeld: () => void) => Promise<T>): Promise<T> {
  const lock = `${file}.lock`;
  const token = `${process.pid} ${randomBytes(6).toString('hex')}`;
  const giveUpAt = Date.now() + staleMs + 1000;
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(lock, token, { flag: 'wx' });
      break;
    } catch (error) {
      if (codeOf(error) !== 'EEXIST') throw error;
      await breakIfStale(lock, staleMs);
      if (Date.now() > giveUpAt) throw new Error(`lock ${lock} stayed taken for ${staleMs + 1000} ms`);
      await sleep(1 + Math.random() * Math.min(attempt, 8));
    }
  }
  const acquiredAt = Date.now();
  // Called right before the write that commits: past half the stale time another process may
  // already consider this lock dead, so the write is abandoned rather than risked.
  const stillHeld = () => {
    if (Date.now() - acquiredAt > staleMs / 2) throw new Error(`lock ${lock} held too long; write abandoned`);
  };
  try {
    return await critical(stillHeld);
  } finally {
    await unlink(lock).catch(() => undefined);
  }
}

/** Removes `lock` if it is older than `staleMs`. Used by `withLock` and by the sweep. */
export async function breakIfStale(lock: string, staleMs: number): Promise<void> {
  const seen = await stat(lock).catch(() => null);
  if (!seen || Date.now() - seen.mtimeMs < staleMs) return;
  const aside = `${lock}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(lock, aside);
  } catch {
    return; // someone else broke it first
  }
  const moved = await stat(aside).catch(() => null);
  if (moved && moved.ino !== seen.ino) await link(aside, lock).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

export function codeOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}
