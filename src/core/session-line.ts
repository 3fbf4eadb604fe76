import { randomBytes } from 'node:crypto';
import type { StoredValue } from '../stored-value.js';
import type { SessionStore } from '../stores/store.js';
import type { StoreBudget, StoreCall } from './store-call.js';

/**
 * Coordination of the requests of one session, all of it. The rule that keeps data safe is the
 * store's compare-and-set (see `core/commit.ts`): a save lands only on the value its request read,
 * else its changes are merged onto what is stored now, or refused with `SessionConflictError` when
 * another save changed the same key. The line below only keeps writers from running into that
 * refusal:
 *
 * - Readers (GET, HEAD, OPTIONS by default) never enter it: they wait for nobody.
 * - Writers of one session, in one process, go one at a time, from load to commit, in arrival order.
 *   Each hands the next the value it is saving (a `Handover`), so the next one starts from it with no
 *   store read, and saves on top of it once that save has landed.
 * - With option `lock`, the writer at the head of the line also holds a lease in the store
 *   (`<key>:lock`, created only if absent, with a TTL), passed down the line in this process and
 *   released when the last write lands: writers of other processes wait for it.
 * - Nobody waits longer than `turnWait` in all (line and lease together): then it goes ahead in
 *   parallel, starting from the save in flight before it, if any, and compare-and-set decides.
 *
 * A session with one writer in flight costs one map entry: the writer's own turn object.
 */

/** The store lease of option `lock`: its key and the token only its holder knows. */
export interface Lease {
  readonly key: string;
  readonly token: string;
}

/** What a writer leaves the next writer of its session: the value it stored or is storing. */
export class Handover {
  /** Set when `value`'s save is answered (stored, refused or failed). */
  settled: boolean;
  constructor(
    readonly value: StoredValue,
    /** Resolves once `value`'s save is answered (never rejects); undefined when nothing is being saved. */
    readonly saved: Promise<unknown> | undefined,
    /**
     * `value` as the members it was assembled from, when they are immutable text (EntryCodec's
     * `sharedRaw`): the next writer starts from them without splitting `value` again.
     */
    readonly members?: ReadonlyArray<readonly [string, unknown]>,
    /**
     * Read from the store by the lease's take (`Handover.read`), not left by a writer: under option
     * `rolling` that read restarted the session's TTL, as the load's own read does.
     */
    readonly fromStore = false,
  ) {
    this.settled = saved === undefined;
  }

  /** What the lease's take read from the store, for the turn to start from. */
  static read(value: StoredValue): Handover {
    return new Handover(value, undefined, undefined, true);
  }
}

/** One writer request's place: what it started from and the lease it holds. */
export class Turn {
  from: Handover | undefined = undefined;
  lease: Lease | undefined = undefined;
  constructor(readonly key: string, readonly deadline: number) {}
}

interface Waiter {
  readonly turn: Turn;
  go(from: Handover | undefined, lease: Lease | undefined): void;
}

/** A session with writers waiting: the one holding it and the others in arrival order. */
class Line {
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  readonly waiters: Waiter[] = [];
  constructor(public holder: Turn) {}
}

export interface SessionLinesDeps {
  /** `turnWait`: the longest a writer waits, line and lease together. 0: writers do not wait. */
  readonly waitMs: number;
  readonly store: SessionStore;
  readonly guard: StoreCall;
  /** Option `lock`: the lease's TTL in ms; undefined: no lease. */
  readonly leaseTtl: number | undefined;
  /** The load's read of a session (`LifecycleParts.read`), sent with the lease where the store keeps call order. */
  readonly read: (key: string, budget: StoreBudget) => Promise<StoredValue | null>;
}

export class SessionLines {
  /** A bare Turn: one writer, nobody waiting. A Handover: nobody holds it, that save is in flight. */
  private readonly lines = new Map<string, Turn | Line | Handover>();

  constructor(private readonly deps: SessionLinesDeps) {}

  /**
   * A writer's turn on `key`: resolves when it may load (what it starts from is in `turn.from`).
   * `loaded`: it has read the session already (a reader that writes after all), so a lease is taken
   * without the read that would go with it.
   */
  enter(key: string, budget: StoreBudget, loaded = false): Turn | Promise<Turn> {
    const turn = new Turn(key, Date.now() + this.deps.waitMs);
    if (this.deps.waitMs === 0) return turn;
    const entry = this.lines.get(key);
    let ready: Turn | Promise<Turn>;
    if (entry === undefined || entry instanceof Handover) {
      this.lines.set(key, turn);
      turn.from = entry;
      ready = turn;
    } else {
      const line = entry instanceof Line ? entry : new Line(entry);
      if (line !== entry) this.lines.set(key, line);
      ready = new Promise<Turn>((resolve) => {
        line.waiters.push({
          turn,
          go(from, lease) {
            turn.from = from;
            turn.lease = lease;
            resolve(turn);
          },
        });
      });
      this.arm(key, line);
    }
    if (this.deps.leaseTtl === undefined) return ready;
    return ready instanceof Promise ? ready.then((held) => this.lease(held, budget, loaded)) : this.lease(ready, budget, loaded);
  }

  /**
   * The writer is done with the session: `left` is what it leaves (the value it is saving, or what
   * it started from when it saved nothing). The next writer starts from it and takes over the lease;
   * with nobody next, the lease is released once `left` has landed (the promise, which never rejects).
   */
  leave(turn: Turn, left: Handover | undefined): Promise<void> | undefined {
    const { key } = turn;
    const entry = this.lines.get(key);
    const lease = turn.lease;
    turn.lease = undefined;
    if (entry instanceof Line && entry.holder === turn) {
      const next = entry.waiters.shift();
      if (next) {
        entry.holder = next.turn;
        this.collapse(key, entry);
        next.go(left, lease);
        return undefined;
      }
      this.collapse(key, entry);
    }
    if (this.lines.get(key) === turn) {
      // Nobody waiting: a save still in flight stays here for a writer that comes before it lands.
      if (left && !left.settled) this.lines.set(key, left);
      else this.lines.delete(key);
    }
    return lease ? this.release(lease, left) : undefined;
  }

  /**
   * The lease `turn` holds, taken off it for its write to release in the same store call; undefined
   * when it holds none, or when a writer waits behind it to take the lease over.
   */
  leaseForWrite(turn: Turn): Lease | undefined {
    const lease = turn.lease;
    if (lease === undefined) return undefined;
    const entry = this.lines.get(turn.key);
    if (entry instanceof Line && entry.holder === turn && entry.waiters.length > 0) return undefined;
    turn.lease = undefined;
    return lease;
  }

  /** `handover`'s save was answered: it is no longer a save in flight for anyone to start from. */
  settled(key: string, handover: Handover): void {
    handover.settled = true;
    if (this.lines.get(key) === handover) this.lines.delete(key);
  }

  /** The line's timer: lets writers go whose `turnWait` ran out, with what the holder started from. */
  private arm(key: string, line: Line): void {
    if (line.timer !== undefined || line.waiters.length === 0) return;
    const first = line.waiters[0]!;
    line.timer = setTimeout(() => {
      line.timer = undefined;
      const now = Date.now();
      const from = line.holder.from && !line.holder.from.settled ? line.holder.from : undefined;
      while (line.waiters.length > 0 && line.waiters[0]!.turn.deadline <= now) line.waiters.shift()!.go(from, undefined);
      if (line.waiters.length === 0) this.collapse(key, line);
      else this.arm(key, line);
    }, Math.max(0, first.turn.deadline - Date.now()));
    // Ref'd: it exists only while requests wait on it, and they are work in progress.
  }

  /** A line nobody waits in any more goes back to its bare holder. */
  private collapse(key: string, line: Line): void {
    if (line.waiters.length > 0) return;
    if (line.timer !== undefined) clearTimeout(line.timer);
    line.timer = undefined;
    if (this.lines.get(key) === line) this.lines.set(key, line.holder);
  }

  /**
   * Takes the store lease for the head of the line, unless it was handed down; gives up at the
   * deadline. On a store that keeps the lease and the session in call order on one connection
   * (`ordered` with `replaceAndRelease`: Redis, not Cluster) the session is read in the same round
   * trip, right behind the lease: a read that lands after the lease was taken sees every save of the
   * writers that held it before (they release it only after their save). Elsewhere (Cluster: the two
   * keys on different nodes) the read could overtake the take, so the load reads after it.
   */
  private async lease(turn: Turn, budget: StoreBudget, loaded: boolean): Promise<Turn> {
    if (turn.lease) return turn; // handed down the line
    const { store, guard, leaseTtl } = this.deps;
    const lease: Lease = { key: `${turn.key}:lock`, token: randomBytes(12).toString('base64url') };
    const readsWithLease = store.ordered === true && store.replaceAndRelease !== undefined && !loaded;
    for (let attempt = 0, pause = 2; ; attempt++, pause = Math.min(pause * 2, 20)) {
      const taking = guard('lock', store.create(lease.key, lease.token, leaseTtl!), budget);
      // The read rides with the first take only: while another process holds the lease, a read sent
      // with each retry would be wasted work; the take that succeeds later reads right after it.
      // Never rejects: a failed read is read again by the load, which decides (and leaves the line).
      const along = readsWithLease && attempt === 0 ? this.deps.read(turn.key, budget).catch(() => null) : undefined;
      if (await taking) {
        turn.lease = lease;
        // Taken afresh, not handed down: a writer of another process may have held it and saved
        // since the save this turn would start from. It starts from the store's value instead.
        const from = turn.from;
        turn.from = undefined;
        if (readsWithLease) {
          const value = await (along ?? this.deps.read(turn.key, budget).catch(() => null));
          if (value !== null) turn.from = Handover.read(value);
        } else if (from && !from.settled) await from.saved;
        return turn;
      }
      const left = turn.deadline - Date.now();
      // Not taken within turnWait (a slow writer elsewhere, or a dead one's lease): go ahead without
      // it; compare-and-set still keeps every change or refuses it.
      if (left <= 0) return turn;
      await new Promise((resolve) => setTimeout(resolve, Math.min(left, pause * (0.5 + Math.random()))));
    }
  }

  /** Releases a lease once the save it covered has landed. Never throws: it expires anyway. */
  private async release(lease: Lease, left: Handover | undefined): Promise<void> {
    await left?.saved;
    try {
      await this.deps.guard('unlock', this.deps.store.deleteIf(lease.key, lease.token));
    } catch {
      // Expires after its TTL; the writers waiting elsewhere go ahead at their turnWait meanwhile.
    }
  }
}
