import type { Context } from 'koa';
import type { ResolvedOptions } from '../config/options.js';
import type { SessionEvents } from '../core/events.js';
import { willWrite } from '../core/commit.js';
import type { CookieDecision, Lifecycle, OpenContext } from '../core/lifecycle.js';
import type { SessionRecord } from '../core/record.js';
import { debug, debugEnabled } from '../core/debug.js';
import { createSigner, type Signer } from '../core/signing.js';
import { SessionStoreError } from '../errors.js';
import { clientAddress } from './client-address.js';
import { cookieWriter, readCookieValue } from './cookie.js';

export interface Opened {
  readonly record: SessionRecord;
  readonly cookie: CookieState;
}

/**
 * Methods that only read (RFC 9110 9.2.1), the ones a browser fires in parallel: by default their
 * requests never wait for other requests of their session (option `isWriter`).
 */
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** `Vary: Cookie`; Koa's `ctx.vary` parses the header first, which is only needed when there is one. */
function varyOnCookie(ctx: Context): void {
  if (ctx.response.get('Vary')) ctx.vary('Cookie');
  else ctx.set('Vary', 'Cookie');
}

/** One request's view of the session cookie. */
export interface CookieState {
  /** The request carried the session cookie (valid or not): the response depends on it. */
  readonly present: boolean;
  /** The cookie verified with an older key: re-issue it signed with the first. */
  readonly rotated: boolean;
  /**
   * The store could not be reached to load the session (`onStoreError` let the request carry on):
   * the session is a stand-in that is never saved and never sets or clears a cookie.
   */
  readonly unavailable?: boolean;
}

/**
 * Set on `ctx.state` when the store could not be reached in this request: loading the session
 * failed (the handler sees an empty stand-in), or saving it did (the request then fails with 503).
 */
export const UNAVAILABLE_FLAG = 'sessionUnavailable';

/**
 * Moves values between Koa and the lifecycle: the cookie (and its signature) and the client address
 * in, the cookie decision out, and store failures through `onStoreError`.
 */
export class CookieExchange {
  private readonly signer: Signer | undefined;
  private readonly writeCookie: (ctx: Context, decision: CookieDecision) => void;

  constructor(
    private readonly lifecycle: Lifecycle,
    private readonly options: ResolvedOptions,
    private readonly events: SessionEvents,
  ) {
    this.signer = options.keys ? createSigner(options.keys) : undefined;
    this.writeCookie = cookieWriter(options.cookie, this.signer);
  }

  /** Synchronous when no store call is needed (no cookie, a malformed one): no promise for anonymous requests. */
  open(ctx: Context): Opened | Promise<Opened> {
    // No Cookie header (most anonymous requests): Koa's `ctx.cookies` object is not even made.
    const raw = ctx.req.headers.cookie === undefined ? undefined : readCookieValue(ctx.cookies, this.options.cookie.name);
    let id = raw;
    let rotated = false;
    if (raw !== undefined && this.signer) {
      // A bad signature is an invalid id: a fresh session, no store call.
      const verified = this.signer.unsign(raw);
      if (verified === null && debugEnabled) debug('cookie refused: bad signature; no store call');
      id = verified?.id ?? '';
      rotated = verified?.rotated ?? false;
    }
    const cookie = { present: raw !== undefined, rotated };
    // The address is worked out only when pinning is on: no cost otherwise.
    const address = this.options.hijackProtection ? clientAddress(ctx, this.options.client) : undefined;
    const writer = this.options.isWriter ? this.options.isWriter(ctx) === true : !SAFE_METHODS.has(ctx.method);
    const forwardedFor = address !== undefined && this.options.quartPinning === 'forwarded-for' ? ctx.get('X-Forwarded-For') : undefined;
    const context = { address, forwardedFor, writer };
    let record: SessionRecord | Promise<SessionRecord>;
    try {
      record = this.lifecycle.open(id, context);
    } catch (error) {
      return this.openFailed(ctx, error, cookie, context);
    }
    if (record instanceof Promise) return record.then((loaded) => ({ record: loaded, cookie }), (error: unknown) => this.openFailed(ctx, error, cookie, context));
    return { record, cookie };
  }

  private async openFailed(ctx: Context, error: unknown, cookie: CookieState, context: OpenContext): Promise<Opened> {
    await this.onStoreFailure(ctx, error);
    markUnavailable(ctx);
    // A stand-in, not the client's session: saving it would replace the real cookie (issue 17).
    return { record: this.lifecycle.fresh(false, context), cookie: { ...cookie, unavailable: true } };
  }

  /** Saves (or not) and sets the cookie. On a failed request, store errors must not hide the handler's error. */
  settle(ctx: Context, record: SessionRecord, cookie: CookieState, failed: boolean): void | Promise<void> {
    let decision: CookieDecision | Promise<CookieDecision>;
    const isStatic = !failed && this.isStaticResponse(ctx);
    if (cookie.unavailable) {
      if (cookie.present) varyOnCookie(ctx);
      // A logout, login or write made on the stand-in never reached the store: not acknowledged.
      // (A static-file response saves no new session anyway: its change is dropped as always.)
      if (!failed && !isStatic && willWrite(record)) {
        throw new SessionStoreError('save', 'the store was unreachable when the session was loaded; the changes made to it were not saved');
      }
      return;
    }
    try {
      decision = this.lifecycle.commit(record, { failed, isStatic, rotated: cookie.rotated });
    } catch (error) {
      return this.settleFailed(ctx, error, failed);
    }
    // Nothing to store: no promise at all.
    if (!(decision instanceof Promise)) return this.respond(ctx, cookie, decision, failed);
    return decision.then((settled) => this.respond(ctx, cookie, settled, failed), (error: unknown) => this.settleFailed(ctx, error, failed));
  }

  private async settleFailed(ctx: Context, error: unknown, failed: boolean): Promise<void> {
    if (failed) {
      if (error instanceof SessionStoreError) this.events.emit('store-error', { error });
      return;
    }
    await this.onStoreFailure(ctx, error);
    // Whatever the policy, a change that was not saved (a write, a logout, a login, a merge that
    // gave up) is never answered as done: the request fails with the store error (503), and the
    // cookie is left as it was.
    markUnavailable(ctx);
    throw error;
  }

  private respond(ctx: Context, cookie: CookieState, decision: CookieDecision, failed: boolean): void {
    if (failed) return;
    // Caches must not hand one client's session-dependent response to another.
    if (cookie.present || decision.kind !== 'none') varyOnCookie(ctx);
    this.writeCookie(ctx, decision);
  }

  /** Applies `onStoreError` to a store failure; anything that is not a store failure is rethrown as is. */
  private async onStoreFailure(ctx: Context, error: unknown): Promise<void> {
    if (!(error instanceof SessionStoreError)) throw error;
    this.events.emit('store-error', { error });
    const policy = this.options.onStoreError;
    if (policy === 'fail') throw error;
    if (typeof policy === 'function') await policy(error, ctx);
  }

  /** File streams (koa-static, koa-send) and whatever `isStatic` marks, unless `staticFile` is on. */
  private isStaticResponse(ctx: Context): boolean {
    if (this.options.staticFile) return false;
    const body = ctx.body as { pipe?: unknown; path?: unknown } | null | undefined;
    if (body && typeof body === 'object' && typeof body.pipe === 'function' && typeof body.path === 'string') return true;
    return this.options.isStatic?.(ctx) === true;
  }
}

function markUnavailable(ctx: Context): void {
  (ctx.state as Record<string, unknown>)[UNAVAILABLE_FLAG] = true;
}
