import type { StoredValue } from '../stored-value.js';
import type { SessionRecord } from './record.js';
import { FROM_STORE, inFlight, RETIRED, SessionTurns, type Handover, type Passed, type SaveTicket, type Turn } from './turns.js';

/** A loaded record's place in its session's line. */
interface Held {
  readonly turn: Turn;
  /** The queued save its loaded value came from (a handover), if any. */
  builtOn: SaveTicket | undefined;
  /** When its loaded value was read from the store (or handed over). */
  readAt: number;
  /** It retired its id (regenerate / destroy): the next request carries a superseded cookie. */
  retired: boolean;
}

/**
 * The lifecycle's side of the turns (see SessionTurns): which turn each loaded record holds, what it
 * was handed, and what it passes on when it hands its save to the queue, when it only read, or when
 * its request ends.
 */
export class RecordTurns {
  private readonly lines: SessionTurns;
  private readonly held = new WeakMap<SessionRecord, Held>();

  constructor(private readonly waitMs: number) {
    this.lines = new SessionTurns(waitMs);
  }

  enter(key: string): Turn | Promise<Turn> {
    return this.lines.enter(key);
  }

  /**
   * The value to start from instead of reading the store: a handover whose save did not fail; one a
   * reader passed on only while it is younger than the wait, so a line of readers reads the store
   * again now and then, or while the save it came from is in flight (the store holds an older value).
   */
  startingPoint(passed: Passed): Handover | undefined {
    if (typeof passed !== 'object' || passed.ticket.state === 'failed') return undefined;
    if (passed.readAt === undefined || inFlight(passed)) return passed;
    return Date.now() - passed.readAt <= this.waitMs ? passed : undefined;
  }

  /** The record loaded in `turn`, from `handover` when there was one. */
  hold(record: SessionRecord, turn: Turn, handover: Handover | undefined): void {
    this.held.set(record, { turn, builtOn: handover?.ticket, readAt: handover?.readAt ?? Date.now(), retired: false });
  }

  /** The queued save the record's value came from, if any (its failure fails the record's save). */
  builtOn(record: SessionRecord): SaveTicket | undefined {
    return this.held.get(record)?.builtOn;
  }

  /** `session.reload()` read the store: the record builds on nothing queued any more. */
  reloaded(record: SessionRecord): void {
    const held = this.held.get(record);
    if (held) [held.builtOn, held.readAt] = [undefined, Date.now()];
  }

  /** The record retired its id: the request after it carries a cookie the browser no longer holds. */
  retired(record: SessionRecord): void {
    const held = this.held.get(record);
    if (held) held.retired = true;
  }

  /** The record's save is queued: the next request starts from the value it writes. */
  passSave(record: SessionRecord, stored: StoredValue, ticket: SaveTicket): void {
    this.held.get(record)?.turn.release({ stored, ticket });
  }

  /**
   * The record only read: the next request, which would otherwise read the store now, starts from
   * the same value, as if it had come together with this one.
   */
  passRead(record: SessionRecord): void {
    const held = this.held.get(record);
    if (!held || record.isNew || record.loadedFrom === undefined) return;
    held.turn.release({ stored: record.loadedFrom, ticket: held.builtOn ?? FROM_STORE, readAt: held.readAt });
  }

  /** The save handed over last for `key` has landed or failed. */
  settled(key: string, ticket: SaveTicket): void {
    this.lines.settled(key, ticket);
  }

  /** The request is over: the next one goes (idempotent; a no-op after `passSave` / `passRead`). */
  release(record: SessionRecord): void {
    const held = this.held.get(record);
    held?.turn.release(held.retired ? RETIRED : undefined);
  }
}
