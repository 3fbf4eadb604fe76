import type { StoredValue } from '../stored-value.js';

/**
 * A save this process has queued, and what became of it: set synchronously by the save queue, so a
 * request that started from that save's value learns, before its own write, that it must not land.
 */
export interface SaveTicket {
  state: 'pending' | 'settled' | 'failed';
}

/**
 * What a request leaves to the next request of its session in this process: the value its save is
 * writing (not yet landed, perhaps) and the ticket of that save. The next request starts from it
 * instead of reading the store, so it sees the update and builds on it.
 */
export interface Handover {
  readonly stored: StoredValue;
  readonly ticket: SaveTicket;
  /**
   * When the value was read from the store, if it was (a request that only read passes on what it
   * loaded). Such a value is taken only while it is younger than the turn wait (or while the save it
   * came from is in flight): a line of readers never goes on for long without reading the store again.
   */
  readonly readAt?: number;
}

/** The ticket of a value that came from the store itself: no save of ours to wait for. */
export const FROM_STORE: SaveTicket = Object.freeze({ state: 'settled' }) as SaveTicket;

/**
 * The request before retired the session's id (a login's `regenerate()`, a logout): the next request
 * was in flight with the old cookie, and the browser holds, or is about to hold, that request's
 * cookie instead.
 */
export const RETIRED = 'retired';

/** What a turn passes on: a value to start from, the news that the id was retired, or nothing (read the store). */
export type Passed = Handover | typeof RETIRED | undefined;

/** The handover in `passed` while its save is in flight (the store still holds the value before it). */
export function inFlight(passed: Passed): Handover | undefined {
  return typeof passed === 'object' && passed.ticket.state === 'pending' ? passed : undefined;
}

/** A request's place in its session's line. */
export interface Turn {
  /** What the request before left (undefined: read the store, as a first request does). */
  readonly handover: Passed;
  /**
   * It was let in because the request before it was still loading its session (waiting on the
   * store) after `waitMs`: what it waited counts against its own `storeTimeout`, so a hung store
   * costs each request of a page one `storeTimeout`, not one more turn per request ahead of it.
   */
  readonly stalled: boolean;
  /**
   * Lets the next request go (idempotent). With a handover it starts from that value; without, it
   * reads the store. A turn overtaken after `waitMs` holds no place: its release does nothing.
   */
  release(passed?: Passed): void;
  /** The request has its session (its load's store calls are over): see `Line.loading`. */
  loaded(): void;
}

/**
 * A session's line: whose turn it is (since when), and the requests waiting behind it. With no
 * holder, the line rests on the last save handed over while that save is in flight: a request that
 * comes now starts from it (reading the store would give the value before that save).
 */
interface Line {
  holder: symbol | undefined;
  resting: Handover | undefined;
  since: number;
  /** What the holder started from: passed on when it is overtaken, while that save is in flight. */
  given: Passed;
  /**
   * The holder is still loading its session: as far as we know, waiting on the store. When its turn
   * runs out so, everyone waiting goes at once (in parallel, each with its wait charged to its store
   * budget), rather than one more `waitMs` each: they would only line up behind the same store.
   */
  loading: boolean;
  readonly waiting: Array<(passed: Passed, stalled: boolean) => void>;
  /** Armed while someone waits: the holder's turn ends `waitMs` after it began, done or not. */
  timer: ReturnType<typeof setTimeout> | undefined;
}

const DETACHED: Turn = { handover: undefined, stalled: false, release() {}, loaded() {} };

/**
 * Requests of one session in this process take turns between load and commit: the next one starts
 * when the one before has handed its changes to the save queue, from the value that save writes. So a
 * read-modify-write (`session.count += 1`) from parallel requests never loses an update within a
 * process, and requests behind a writer need no store read. Saves still coalesce in the save queue.
 *
 * A turn that goes on for longer than `waitMs` (a slow handler, a long poll) stops holding up the
 * line: the next request goes ahead in parallel with it, as in other session libraries, and only the
 * save queue's key-by-key merge stands between their writes. A quick line is never cut, however long
 * it is. Across processes nothing waits: compare-and-set decides.
 */
export class SessionTurns {
  private readonly lines = new Map<string, Line>();

  constructor(private readonly waitMs: number) {}

  /** Synchronous when nobody else holds the session (the usual case: no promise, no timer). */
  enter(key: string): Turn | Promise<Turn> {
    if (this.waitMs === 0) return DETACHED;
    const line = this.lines.get(key);
    if (line === undefined) {
      const holder = Symbol('turn');
      this.lines.set(key, { holder, resting: undefined, since: Date.now(), given: undefined, loading: true, waiting: [], timer: undefined });
      return this.turnFor(key, holder, undefined);
    }
    if (line.holder === undefined) {
      const handover = inFlight(line.resting);
      const holder = Symbol('turn');
      [line.holder, line.resting, line.since, line.given, line.loading] = [holder, undefined, Date.now(), handover, true];
      return this.turnFor(key, holder, handover);
    }
    return new Promise<Turn>((resolve) => {
      // `pass` makes the new holder before it admits the waiter; a stalled line lets it in detached.
      line.waiting.push((passed, stalled) => resolve(stalled ? { ...DETACHED, handover: passed, stalled } : this.turnFor(key, line.holder!, passed)));
      this.arm(key, line);
    });
  }

  /** The save handed over last has landed or failed: a resting line is no longer needed. */
  settled(key: string, ticket: SaveTicket): void {
    const line = this.lines.get(key);
    if (line !== undefined && line.holder === undefined && line.resting?.ticket === ticket) this.lines.delete(key);
  }

  /** How many sessions have a line (a request in its turn, or a save handed over in flight). */
  get size(): number {
    return this.lines.size;
  }

  private turnFor(key: string, holder: symbol, handover: Passed): Turn {
    return {
      handover,
      stalled: false,
      release: (next?: Passed) => {
        const line = this.lines.get(key);
        // Released already, or overtaken after waitMs: the line has moved on without it.
        if (line?.holder === holder) this.pass(key, line, next);
      },
      loaded: () => {
        const line = this.lines.get(key);
        if (line?.holder === holder) line.loading = false;
      },
    };
  }

  /** The turn passes to the first request waiting, or the line ends. */
  private pass(key: string, line: Line, passed: Passed): void {
    clearTimeout(line.timer);
    line.timer = undefined;
    const next = line.waiting.shift();
    if (next === undefined) {
      const resting = inFlight(passed);
      if (resting) [line.holder, line.resting] = [undefined, resting];
      else this.lines.delete(key);
      return;
    }
    [line.holder, line.since, line.given, line.loading] = [Symbol('turn'), Date.now(), passed, true];
    next(passed, false);
    if (line.waiting.length > 0) this.arm(key, line);
  }

  private arm(key: string, line: Line): void {
    if (line.timer !== undefined) return;
    const left = Math.max(0, line.since + this.waitMs - Date.now());
    line.timer = setTimeout(() => {
      line.timer = undefined;
      // Overtaken: the holder goes on alone, the next request reads the store itself, unless the
      // holder started from a save still in flight (the store holds the value before it).
      if (this.lines.get(key) !== line) return;
      const given = inFlight(line.given);
      if (line.loading) {
        // Still waiting on the store: the holder keeps its place, the others go now, together.
        for (const next of line.waiting.splice(0)) next(given, true);
      } else this.pass(key, line, given);
    }, left);
  }
}
