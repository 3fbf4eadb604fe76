import type { StoredValue } from '../stored-value.js';

/**
 * Group commit for a hot session: the saves of its writers that finish in the same turn of the event
 * loop go to the store as one compare-and-set.
 *
 * A writer that starts from a save still in flight (another request of its session is being
 * answered) does not send its save at once: it opens a group, sent at the end of this turn of the
 * event loop (`setImmediate`). Each writer of the session that finishes meanwhile started from the
 * one before it (the hand-over), so it joins: the group now stores its value. A save that did not
 * start from the group's value (a reader that writes, which read the store) cannot stand for the
 * group's changes: it goes after the group, and compare-and-set merges. The store gets one
 * compare-and-set, from what the first member started from to what the last one leaves, and every
 * member is answered when it is answered, each with its own answer (`send` decides them). Nothing is
 * answered before it is stored, and a request waits at most until the end of its event-loop turn.
 *
 * Only on a store that keeps the order of its calls (one Redis connection, the memory store): the
 * group reaches the store after the save it started from. A store call on the key that does not join
 * (a delete, a logout's retire) sends the open group first (`flush`), so it lands after it.
 */
export class SaveGroup<M, R> {
  readonly members: M[] = [];
  /** What the group stores: the last member's value, which the next member must have started from. */
  value: StoredValue;
  /** Resolves with each member's answer, in order, once the group is answered (never rejects). */
  private readonly answers: Promise<readonly R[]>;
  private answer!: (answers: readonly R[]) => void;

  constructor(readonly key: string, readonly expected: StoredValue, value: StoredValue) {
    this.value = value;
    this.answers = new Promise((resolve) => (this.answer = resolve));
  }

  /** `member`'s answer, once the group is answered (never rejects). */
  add(member: M, value: StoredValue): Promise<R> {
    const index = this.members.push(member) - 1;
    this.value = value;
    return this.answers.then((answers) => answers[index]!);
  }

  settle(answers: readonly R[]): void {
    this.answer(answers);
  }
}

export class SaveGroups<M, R> {
  private readonly open = new Map<string, SaveGroup<M, R>>();

  /** `send` stores a group and decides each member's answer; it never rejects. */
  constructor(private readonly send: (group: SaveGroup<M, R>) => Promise<readonly R[]>) {}

  /**
   * `member`'s save of `value`, which it made on top of `expected` (what it read, or was handed): it
   * joins the open group whose value that is, or opens one that stores over `expected`.
   */
  add(key: string, expected: StoredValue, member: M, value: StoredValue): Promise<R> {
    let group = this.open.get(key);
    if (group === undefined || group.value !== expected) {
      // It started from something else (a reader that writes read the store; a writer waited past
      // turnWait): its value does not hold the group's changes, so it cannot stand for them. The open
      // group goes first, and this save after it (compare-and-set merges what it missed).
      if (group !== undefined) this.flush(key);
      const opened = new SaveGroup<M, R>(key, expected, value);
      this.open.set(key, opened);
      setImmediate(() => {
        if (this.open.get(key) === opened) this.flush(key);
      });
      group = opened;
    }
    return group.add(member, value);
  }

  /** Sends `key`'s open group now, if there is one (the store call is made before this returns). */
  flush(key: string): void {
    if (this.open.size === 0) return;
    const group = this.open.get(key);
    if (group === undefined) return;
    this.open.delete(key);
    void this.send(group).then((answers) => group.settle(answers));
  }
}
