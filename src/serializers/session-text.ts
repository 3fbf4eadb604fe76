import { SessionTooLargeError } from '../errors.js';
import { byteLength, type StoredValue } from '../stored-value.js';
import type { EntryCodec } from './entry-codec.js';

/**
 * Keys Quart-Session keeps in the stored dict for itself; never visible as data. `_created`
 * (option `maxAge`) and `_lifetime` (a session's own idle lifetime, in seconds) are ours: written
 * only when used, so a session that uses neither is byte-identical to Quart's. A Quart app reading
 * one sees it as an ordinary data key and writes it back unchanged.
 */
export const METADATA_KEYS: ReadonlySet<string> = new Set(['_permanent', '_addr', '_created', '_lifetime']);

/**
 * Sets `key` in an ordered map of members: in place when it is there already; otherwise new data goes
 * last, a new `_permanent` first and other new metadata before the first data key (Quart-Session's
 * order: metadata, then data). May return a new map.
 */
export function putMember(members: Map<string, unknown>, key: string, raw: unknown): Map<string, unknown> {
  if (members.has(key) || !METADATA_KEYS.has(key)) return members.set(key, raw);
  const placed = new Map<string, unknown>();
  if (key === '_permanent') placed.set(key, raw);
  for (const [name, value] of members) {
    if (!placed.has(key) && !METADATA_KEYS.has(name)) placed.set(key, raw);
    placed.set(name, value);
  }
  if (!placed.has(key)) placed.set(key, raw);
  return placed;
}

/** A removal in `SavePlan.changes`. */
export const REMOVED = null;


/**
 * A session's stored value as members: requests' changes applied on top of a value another request
 * stored (the conflict merge on save), and members assembled into what the store
 * keeps, within `maxSize`. Members no change names stay exactly as stored (raw form, see EntryCodec).
 */
export class SessionText {
  constructor(private readonly codec: EntryCodec, private readonly maxSize: number) {}

  /**
   * Each request's changes, in order, on top of `current` (the members of what is stored now, as the
   * codec split them; not changed here), left as members to look at before assembling them.
   */
  mergedMembers(current: Iterable<readonly [string, unknown]>, changes: ReadonlyArray<ReadonlyMap<string, unknown>>): Map<string, unknown> {
    let members = new Map(current);
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
