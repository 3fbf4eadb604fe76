import { SessionDecodeError } from '../errors.js';
import type { StoredValue } from '../stored-value.js';
import { debug, debugEnabled } from './debug.js';
import type { LifecycleParts, OpenContext } from './lifecycle-parts.js';
import { metaOf, nowSeconds, pastMaxAge } from './metadata.js';
import { pinMatches, pinToWrite } from './pin-rule.js';
import { SessionRecord } from './record.js';
import { idLabel } from './signing.js';
import { StoreBudget } from './store-call.js';
import type { Handover, Turn } from './session-line.js';

/**
 * The first half of a request: the cookie's id becomes a session. No store call without a
 * well-formed id; an unknown, expired, refused or unreadable one gives a fresh session.
 */
export class SessionLoader {
  constructor(private readonly parts: LifecycleParts) {}

  open(cookieId: string | undefined, context: OpenContext): SessionRecord | Promise<SessionRecord> {
    if (cookieId === undefined) return this.fresh(false, context);
    if (!this.parts.isValidId(cookieId)) {
      if (debugEnabled) debug('cookie refused: not a well-formed id (%d characters); no store call', cookieId.length);
      return this.fresh(true, context);
    }
    return this.load(cookieId, context);
  }

  /**
   * A new, unsaved session. `replacesCookie`: the client sent a cookie we will not honour. With
   * pinning on, it is pinned to the client address (or, for a Quart app that pins by it, the
   * X-Forwarded-For text: `pinToWrite`).
   */
  fresh(replacesCookie: boolean, context: OpenContext, budget?: StoreBudget): SessionRecord {
    const { options, codec, newId } = this.parts;
    const record = new SessionRecord({
      isNew: true, permanent: options.permanent, codec, newId, defaultLifetime: options.lifetime, budget, staleCookie: replacesCookie,
    });
    if (context.address !== undefined) record.setMeta('_addr', pinToWrite({ address: context.address, forwardedFor: context.forwardedFor }));
    return record;
  }

  /** A writer first takes its turn in the session's line (see session-line.ts); a reader goes straight on. */
  private load(id: string, context: OpenContext): Promise<SessionRecord> {
    const key = this.parts.options.keyPrefix + id;
    const budget = new StoreBudget();
    // A reader: no line, and no async layer of its own between the middleware and the store.
    if (!context.writer) return this.loadStored(id, key, context, budget, undefined);
    const entered = this.parts.lines.enter(key, budget);
    return entered instanceof Promise ? entered.then((turn) => this.loadInTurn(id, key, context, budget, turn)) : this.loadInTurn(id, key, context, budget, entered);
  }

  /** `then` rather than an async function: one promise fewer on every write. */
  private loadInTurn(id: string, key: string, context: OpenContext, budget: StoreBudget, turn: Turn): Promise<SessionRecord> {
    return this.loadStored(id, key, context, budget, turn.from).then(
      (record) => {
        // A fresh session has a new id: the old one's line has nothing more to order.
        if (record.isNew) this.parts.lines.leave(turn, undefined);
        else record.turn = turn;
        return record;
      },
      (error: unknown) => {
        this.parts.lines.leave(turn, turn.from);
        throw error;
      },
    );
  }

  /** `handedOver`: what the writer before this one saved (or is saving): no store read needed. */
  private async loadStored(id: string, key: string, context: OpenContext, budget: StoreBudget, handedOver: Handover | undefined): Promise<SessionRecord> {
    const { options, store, guard, events, codec, serializer } = this.parts;
    const { address } = context;
    const stored = handedOver ? handedOver.value : await this.parts.read(key, budget);
    if (stored === null) {
      // Regenerated a moment ago (a login of the same browser answered while this request was on its
      // way): the browser's cookie is the newer one, so this request sends none and stores nothing.
      const superseded = (await this.parts.retired.of(key, budget)) === 'regenerated';
      if (debugEnabled) debug('cookie refused: session %s is not in the store (%s); a fresh session', idLabel(id), superseded ? 'regenerated a moment ago' : 'expired or deleted');
      const record = this.fresh(!superseded, context, budget);
      if (superseded) record.supersede();
      return record;
    }
    let members: ReadonlyArray<readonly [string, unknown]>;
    try {
      members = handedOver?.members ?? codec.split(stored);
    } catch (failure) {
      // Left alone, as Quart-Session and Flask-Session do: in a shared store it may be another app's
      // live session (Flask-Session writes msgpack or pickle), and its TTL removes it anyway. So is
      // the cookie, which that app shares: the request sees an empty session it may not change.
      const session = idLabel(id);
      events.emit('decode-error', { session, error: new SessionDecodeError(session, serializer.name, failure) });
      const record = this.fresh(false, {}, budget);
      record.foreign = session;
      return record;
    }
    const record = new SessionRecord({
      id, isNew: false, permanent: options.permanent, codec, members, loadedFrom: stored, newId: this.parts.newId, defaultLifetime: options.lifetime, budget,
    });
    // A session stored without the metadata an option needs (written before the option was turned
    // on, or by a Python app that does not pin) adopts it now and is written once on this request.
    let adopted = false;
    if (address !== undefined) {
      const request = { address, forwardedFor: context.forwardedFor };
      const pinned = metaOf(record, '_addr');
      if (pinned === undefined) {
        record.setMeta('_addr', pinToWrite(request));
        adopted = true;
      } else if (!pinMatches(pinned, request, options.pinning)) {
        // Quart-Session's rule: the session is deleted, so the victim is logged out too; a cookie
        // replayed from elsewhere must not be left usable.
        events.emit('pin-mismatch', { session: idLabel(id), expected: String(pinned), actual: address });
        await this.discard(key, record);
        return this.fresh(true, context, budget);
      }
    }
    if (options.maxAge !== undefined) {
      const created = metaOf(record, '_created');
      if (created === undefined) {
        record.setMeta('_created', nowSeconds());
        adopted = true;
      } else if (pastMaxAge(created, options.maxAge)) {
        events.emit('absolute-timeout', { session: idLabel(id), createdAt: new Date(typeof created === 'number' ? created * 1000 : NaN) });
        await this.discard(key, record);
        return this.fresh(true, context, budget);
      }
    }
    if (adopted) record.markDirty();
    // A read of the store (the GETEX above, or the one sent with the lease) refreshed the TTL with the
    // default lifetime; a session with its own takes it back. (A writer handed such a value by one that
    // saved nothing touches again: the same TTL, one call more, only with `lock` and `rolling`.)
    if (options.rolling && (handedOver === undefined || handedOver.fromStore) && record.lifetime !== options.lifetime) {
      await guard('touch', store.touch(key, this.parts.ttlFor(record)), budget);
    }
    // Only with an index: `await undefined` would still cost every load a promise and a microtask.
    if (this.parts.users) await this.parts.users.loaded(record, key);
    return record;
  }

  /**
   * `session.reload()`: what the store holds for this session now, replacing the request's unsaved
   * changes. A session never stored (or moved to a new id) has nothing to re-read: its changes go.
   */
  async reload(record: SessionRecord): Promise<void> {
    const { options, store, guard, codec } = this.parts;
    if (record.isNew) return record.reloaded(null);
    const stored = await guard('get', store.get(options.keyPrefix + record.id), record.budget);
    if (stored === null) return record.reloaded(null);
    record.reloaded({ members: codec.split(stored), loadedFrom: stored });
  }

  /**
   * Deletes a session refused on load (pin mismatch, absolute timeout), index entry included. Not
   * marked retired: the browser that holds this cookie must get it cleared, and a new session.
   */
  private async discard(key: string, record: SessionRecord): Promise<void> {
    await this.parts.guard('delete', this.parts.store.delete(key), record.budget);
    if (this.parts.users) await this.parts.users.discarded(key, dataOf(record));
  }
}

/** The data of a session refused on load, for the user index (decoded: this is rare). */
function dataOf(record: SessionRecord): Record<string, unknown> {
  const data: Record<string, unknown> = Object.create(null);
  for (const key of record.keys()) {
    try {
      data[key] = record.peek(key);
    } catch {
      // undecodable: no user id there
    }
  }
  return data;
}
