/**
 * Ids this process retired (regenerate / destroy) a moment ago. A `rolling` request that loaded a
 * session before another request of the same browser retired it must not re-set the old id: that
 * cookie would replace the newer one the browser just got, and log the user out.
 *
 * Process-local, bounded and short-lived on purpose: it only has to cover requests that were
 * already in flight when the id was retired, so entries older than `ttlMs` (a request's store budget
 * plus any slow handler, minutes at most) are useless and dropped, and past `maxEntries` the oldest
 * go first. Across processes the rolling read (GET/GETEX) found the session, so the race left is a
 * retire in another process landing between that read and this response: one store round trip plus
 * the handler's own time. See docs/reliability.md.
 */
export class RetiredIds {
  /** Insertion order is retirement order: the first entries are the oldest. */
  private readonly retiredAt = new Map<string, number>();

  constructor(
    private readonly maxEntries = 10_000,
    private readonly ttlMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  add(id: string): void {
    this.retiredAt.delete(id);
    this.retiredAt.set(id, this.now());
    this.prune();
  }

  has(id: string): boolean {
    const at = this.retiredAt.get(id);
    if (at === undefined) return false;
    if (this.now() - at <= this.ttlMs) return true;
    this.retiredAt.delete(id);
    return false;
  }

  get size(): number {
    return this.retiredAt.size;
  }

  private prune(): void {
    const oldest = this.now() - this.ttlMs;
    for (const [id, at] of this.retiredAt) {
      if (this.retiredAt.size <= this.maxEntries && at >= oldest) break;
      this.retiredAt.delete(id);
    }
  }
}
