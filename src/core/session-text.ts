import { SessionTooLargeError } from '../errors.js';
import { byteLength, type StoredValue } from '../stored-value.js';
import type { EntryCodec } from './entry-codec.js';
import { putMember, REMOVED } from './record.js';

/**
 * A session's stored value as members: requests' changes applied on top of a value another request
 * stored (the conflict merge on save), and members assembled into what the store
 * keeps, within `maxSize`. Members no change names stay exactly as stored (raw form, see EntryCodec).
 */
export class SessionText {
  constructor(private readonly codec: EntryCodec, private readonly maxSize: number) {}

  /** Each request's changes, in order, on top of `current`, assembled (throws SessionTooLargeError). */
  merge(current: StoredValue, changes: ReadonlyArray<ReadonlyMap<string, unknown>>): StoredValue {
    return this.assemble(this.mergedMembers(current, changes));
  }

  /** The same, left as members (to look at what remains before assembling it). */
  mergedMembers(current: StoredValue, changes: ReadonlyArray<ReadonlyMap<string, unknown>>): Map<string, unknown> {
    let members = new Map(this.codec.split(current));
    for (const change of changes) {
      for (const [name, raw] of change) {
        if (raw === REMOVED) members.delete(name);
        else members = putMember(members, name, raw);
      }
    }
    return members;
  }

  /** What the store keeps for these members; over `maxSize` bytes, SessionTooLargeError naming the largest keys. */
  assemble(members: Iterable<readonly [string, unknown]>): StoredValue {
    const list = Array.isArray(members) ? (members as ReadonlyArray<readonly [string, unknown]>) : [...members];
    const value = this.codec.assemble(list);
    const size = byteLength(value);
    if (size > this.maxSize) throw new SessionTooLargeError(size, this.maxSize, 'maxSize', this.largest(list));
    return value;
  }

  /** The 3 biggest members, each measured as a session of its own (on the error path only: one encoding each). */
  private largest(members: ReadonlyArray<readonly [string, unknown]>): Array<{ key: string; bytes: number }> {
    const sizes = members.map(([key, raw]) => ({ key, bytes: byteLength(this.codec.assemble([[key, raw]])) }));
    return sizes.sort((a, b) => b.bytes - a.bytes).slice(0, LARGEST_KEYS);
  }
}

/** How many keys a SessionTooLargeError names. */
const LARGEST_KEYS = 3;
