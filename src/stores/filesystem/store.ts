import { createHash, randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { link, open, readFile, rename, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { DEFAULTS } from '../../defaults.js';
import { SessionOptionsError } from '../../errors.js';
import { onlyKnownKeys, positiveInt } from '../../validate.js';
import { codeOf, withLock } from './lock.js';
import { sweep } from './sweep.js';
import { sameStoredValue, toBytes, type StoredValue } from '../../stored-value.js';
import type { ReplaceResult, SessionStore, UserSessionIndex } from '../store.js';

export interface FilesystemStoreOptions {
  /** Directory holding the session files; created if missing. Required (top-level option `directory`). */
  directory?: string;
  /** Most sessions kept; each sweep evicts those closest to expiry beyond it. Default 100 000. */
  maxEntries?: number;
  /** Time between sweeps of expired files, in ms. Default 60 000. */
  sweepInterval?: number;
  /** A lock file older than this (ms) was left by a dead process and is broken. Default 5000. */
  lockStaleMs?: number;
}

/**
 * Sessions as files, one per session, safe for several processes sharing the directory.
 *
 * - File names are the SHA-256 of the key (`<hex>.s`): no client input ever becomes a path.
 * - The file's mtime is its expiry time (set in the future). Reading the expiry and the value from
 *   one open file handle is consistent, refreshing a TTL is one `futimes` on the version that was
 *   read (no rewrite, no lock), and the sweep needs a `stat`, never a read.
 * - Every write goes to a temp file in the same directory first and lands by `link` (create: fails
 *   if the name exists, so exactly one creator wins, across processes too) or `rename` (replace:
 *   readers see the old file or the new one, never half a file or none).
 * - replace, delete and eviction hold a per-session lock file (see filesystem-lock.ts) across their
 *   compare and write, so exactly one of two racing compare-and-sets wins and a replace that was in
 *   flight cannot bring back a session another process deleted.
 */
export class FilesystemStore implements SessionStore {
  readonly name = 'filesystem';
  readonly directory: string;
  readonly maxEntries: number;
  readonly lockStaleMs: number;
  readonly userIndex: UserSessionIndex;
  private readonly timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> | undefined;

  constructor(options: FilesystemStoreOptions) {
    onlyKnownKeys('filesystem', options, ['directory', 'maxEntries', 'sweepInterval', 'lockStaleMs'], 'a filesystem option');
    if (options.directory === undefined) throw new SessionOptionsError('directory', 'is required with type "filesystem"');
    if (typeof options.directory !== 'string' || options.directory === '') throw new SessionOptionsError('directory', 'must be a directory path');
    this.directory = resolve(options.directory);
    this.maxEntries = positiveInt('filesystem.maxEntries', options.maxEntries, DEFAULTS.filesystem.maxEntries);
    this.lockStaleMs = positiveInt('filesystem.lockStaleMs', options.lockStaleMs, DEFAULTS.filesystem.lockStaleMs);
    const sweepInterval = positiveInt('filesystem.sweepInterval', options.sweepInterval, DEFAULTS.filesystem.sweepInterval);
    checkWritable(this.directory);
    this.timer = setInterval(() => void this.sweep().catch(() => undefined), sweepInterval);
    this.timer.unref();
    this.userIndex = new FilesystemUserIndex(this);
  }

  async get(key: string, refreshTtlMs?: number): Promise<StoredValue | null> {
    return this.readLive(this.pathOf(key), async (handle) => {
      const value = await handle.readFile();
      if (refreshTtlMs !== undefined) await handle.utimes(new Date(), new Date(Date.now() + refreshTtlMs));
      return value;
    });
  }

  async create(key: string, value: StoredValue, ttlMs: number): Promise<boolean> {
    const path = this.pathOf(key);
    const temp = await this.writeTemp(toBytes(value), Date.now() + ttlMs);
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          await link(temp, path);
          return true;
        } catch (error) {
          if (codeOf(error) !== 'EEXIST' || attempt > 0) {
            if (codeOf(error) === 'EEXIST') return false;
            throw error;
          }
        }
        // The name is taken; an expired file still counts as absent, so clear it (under the lock:
        // another process may be recreating it) and try once more.
        const cleared = await withLock(path, this.lockStaleMs, () => this.removeIfExpired(path));
        if (!cleared) return false;
      }
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  async replace(key: string, expected: StoredValue, value: StoredValue, ttlMs: number): Promise<ReplaceResult> {
    return this.ifUnchanged(key, expected, async (path, stillHeld) => {
      const temp = await this.writeTemp(toBytes(value), Date.now() + ttlMs);
      try {
        stillHeld();
        await rename(temp, path);
      } catch (error) {
        await unlink(temp).catch(() => undefined);
        throw error;
      }
    });
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    await withLock(path, this.lockStaleMs, () => unlinkQuietly(path));
  }

  async deleteIf(key: string, expected: StoredValue): Promise<ReplaceResult> {
    return this.ifUnchanged(key, expected, async (path, stillHeld) => {
      stillHeld();
      await unlinkQuietly(path);
    });
  }

  /** Under the file's lock: `act` only if the file still holds exactly `expected` (compare-and-set / -delete). */
  private ifUnchanged(key: string, expected: StoredValue, act: (path: string, stillHeld: () => void) => Promise<void>): Promise<ReplaceResult> {
    const path = this.pathOf(key);
    return withLock(path, this.lockStaleMs, async (stillHeld): Promise<ReplaceResult> => {
      const current = await this.readLive(path, (handle) => handle.readFile());
      if (current === null) {
        await this.removeIfExpired(path);
        return { status: 'missing' };
      }
      if (!sameStoredValue(current, expected)) return { status: 'conflict', current };
      await act(path, stillHeld);
      return { status: 'ok' };
    });
  }

  async touch(key: string, ttlMs: number): Promise<void> {
    await this.readLive(this.pathOf(key), (handle) => handle.utimes(new Date(), new Date(Date.now() + ttlMs)));
  }

  /** One sweep now (the timer also runs them): expired files out, then down to `maxEntries`. */
  sweep(): Promise<{ removed: number; evicted: number }> {
    if (this.sweeping) return this.sweeping as Promise<{ removed: number; evicted: number }>;
    const run = sweep({
      directory: this.directory,
      maxEntries: this.maxEntries,
      lockStaleMs: this.lockStaleMs,
      remove: (path, force) =>
        withLock(path, this.lockStaleMs, async () => {
          if (force) await unlinkQuietly(path);
          else await this.removeIfExpired(path);
        }),
    }).finally(() => (this.sweeping = undefined));
    this.sweeping = run;
    return run;
  }

  /** The directory still takes a new file (checked at start-up too; a mount may have gone since). */
  async ready(): Promise<void> {
    const probe = join(this.directory, `.tmp-probe-${process.pid}-${randomBytes(6).toString('hex')}`);
    await writeFile(probe, '', { flag: 'wx' });
    await unlink(probe);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping?.catch(() => undefined);
  }

  /** `<dir>/<sha256 hex>.s` for a session, `.u` for a user index. */
  pathOf(key: string, kind: 's' | 'u' = 's'): string {
    return join(this.directory, `${createHash('sha256').update(key).digest('hex')}.${kind}`);
  }

  /** Runs `use` on the open file when it exists and has not expired; null otherwise. */
  async readLive<T>(path: string, use: (handle: FileHandle) => Promise<T>): Promise<T | null> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if (codeOf(error) === 'ENOENT') return null;
      throw error;
    }
    try {
      if ((await handle.stat()).mtimeMs <= Date.now()) return null;
      return await use(handle);
    } finally {
      await handle.close();
    }
  }

  /** A complete file with its expiry, ready to be linked or renamed into place. */
  async writeTemp(bytes: Uint8Array, expiresAt: number): Promise<string> {
    const temp = join(this.directory, `.tmp-${randomBytes(12).toString('hex')}`);
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(bytes);
      await handle.utimes(new Date(), new Date(expiresAt));
    } catch (error) {
      await handle.close();
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    await handle.close();
    return temp;
  }

  /** Call with the file's lock held. True when nothing live remains at `path`. */
  async removeIfExpired(path: string): Promise<boolean> {
    const info = await stat(path).catch(() => null);
    if (!info) return true;
    if (info.mtimeMs > Date.now()) return false;
    await unlinkQuietly(path);
    return true;
  }
}

/**
 * Per-user index: `<sha256(user key)>.u`, a JSON object of session key to expiry time, rewritten
 * (temp file + rename) under its lock. The session files decide: `list` gives the sessions whose
 * file is live, whatever their entry says, and each rewrite drops the entries of sessions that are
 * gone and raises the others to their file's expiry. The index file expires with its longest-lived
 * entry (so the sweep removes a forgotten index), which is never before a session it lists: a
 * "remember me" session keeps the index alive after a shorter session of the user was added.
 */
class FilesystemUserIndex implements UserSessionIndex {
  constructor(private readonly store: FilesystemStore) {}

  add(userKey: string, sessionKey: string, ttlMs: number): Promise<void> {
    return this.update(userKey, (entries) => void (entries[sessionKey] = Math.max(entries[sessionKey] ?? 0, Date.now() + ttlMs)));
  }

  remove(userKey: string, sessionKey: string): Promise<void> {
    return this.update(userKey, (entries) => void delete entries[sessionKey]);
  }

  async list(userKey: string): Promise<string[]> {
    const entries = await this.read(this.store.pathOf(userKey, 'u'));
    const keys: string[] = [];
    for (const key of Object.keys(entries)) if ((await this.expiryOf(key)) !== undefined) keys.push(key);
    return keys;
  }

  /** The session's expiry time (its file's mtime), or undefined when it is gone or expired. */
  private async expiryOf(sessionKey: string): Promise<number | undefined> {
    const info = await stat(this.store.pathOf(sessionKey)).catch(() => null);
    return info && info.mtimeMs > Date.now() ? info.mtimeMs : undefined;
  }

  private async update(userKey: string, change: (entries: Record<string, number>) => void): Promise<void> {
    const path = this.store.pathOf(userKey, 'u');
    await withLock(path, this.store.lockStaleMs, async (stillHeld) => {
      const entries = await this.read(path);
      change(entries);
      for (const key of Object.keys(entries)) {
        // A session refreshed without a re-add (a rolling read, a touch) lives past its entry: its file says how long.
        const expiresAt = await this.expiryOf(key);
        if (expiresAt === undefined) delete entries[key];
        else entries[key] = Math.max(entries[key]!, expiresAt);
      }
      const latest = Math.max(0, ...Object.values(entries));
      if (latest === 0) return unlinkQuietly(path);
      // A session file's mtime reads back with a fraction of a millisecond that a Date drops: rounded
      // up, and a millisecond more, the index never expires before the session it lists.
      const temp = await this.store.writeTemp(Buffer.from(JSON.stringify(entries)), Math.ceil(latest) + 1);
      stillHeld();
      await rename(temp, path).catch(async (error: unknown) => {
        await unlink(temp).catch(() => undefined);
        throw error;
      });
    });
  }

  private async read(path: string): Promise<Record<string, number>> {
    const text = await readFile(path, 'utf8').catch((error: unknown) => {
      if (codeOf(error) === 'ENOENT') return '{}';
      throw error;
    });
    const parsed: unknown = JSON.parse(text);
    const entries: Record<string, number> = Object.create(null);
    if (parsed && typeof parsed === 'object') {
      for (const [key, value] of Object.entries(parsed)) if (typeof value === 'number') entries[key] = value;
    }
    return entries;
  }
}

async function unlinkQuietly(path: string): Promise<void> {
  await unlink(path).catch((error: unknown) => {
    if (codeOf(error) !== 'ENOENT') throw error;
  });
}

/**
 * At start-up, synchronously: the directory exists (or can be made) and a file can really be
 * created in it. A probe file, not only `access(W_OK)`, because root passes permission checks but
 * still cannot write on a read-only mount or under a path whose parent is a file.
 */
function checkWritable(directory: string): void {
  try {
    makeDirectory(directory, 0);
    if (!statSync(directory).isDirectory()) throw new Error('not a directory');
    accessSync(directory, constants.W_OK);
    const probe = join(directory, `.tmp-probe-${process.pid}-${randomBytes(6).toString('hex')}`);
    writeFileSync(probe, '', { flag: 'wx' });
    unlinkSync(probe);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new SessionOptionsError('directory', `must be a writable directory: ${JSON.stringify(directory)} is not (${reason})`);
  }
}

/**
 * `mkdir -p` by hand: Node 20's `mkdirSync(..., { recursive: true })` loops forever on a path the
 * kernel answers ENOENT for although the parent exists (e.g. under /proc).
 */
function makeDirectory(directory: string, depth: number): void {
  try {
    mkdirSync(directory, { mode: 0o700 });
  } catch (error) {
    if (codeOf(error) === 'EEXIST') return;
    const parent = dirname(directory);
    if (codeOf(error) !== 'ENOENT' || parent === directory || depth > 64 || existsSync(parent)) throw error;
    makeDirectory(parent, depth + 1);
    mkdirSync(directory, { mode: 0o700 });
  }
}

