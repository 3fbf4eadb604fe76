import { MemoryStore, type SessionStore, type StoredValue, type ReplaceResult } from 'koa-qsession';

/** A real MemoryStore that also records which operations reached it, to assert round trips. */
export class RecordingStore implements SessionStore {
  readonly name = 'recording-memory';
  readonly calls: string[] = [];
  constructor(readonly inner: MemoryStore = new MemoryStore()) {}

  reset(): void {
    this.calls.length = 0;
  }
  get(key: string, refreshTtlMs?: number): Promise<StoredValue | null> {
    this.calls.push(refreshTtlMs === undefined ? 'get' : 'get+touch');
    return this.inner.get(key, refreshTtlMs);
  }
  create(key: string, value: StoredValue, ttlMs: number): Promise<boolean> {
    this.calls.push('create');
    return this.inner.create(key, value, ttlMs);
  }
  replace(key: string, expected: StoredValue, value: StoredValue, ttlMs: number): Promise<ReplaceResult> {
    this.calls.push('replace');
    return this.inner.replace(key, expected, value, ttlMs);
  }
  delete(key: string): Promise<void> {
    this.calls.push('delete');
    return this.inner.delete(key);
  }
  deleteIf(key: string, expected: StoredValue): Promise<ReplaceResult> {
    this.calls.push('deleteIf');
    return this.inner.deleteIf(key, expected);
  }
  touch(key: string, ttlMs: number): Promise<void> {
    this.calls.push('touch');
    return this.inner.touch(key, ttlMs);
  }
}
