import type { SessionEvents } from './events.js';

/** The request a session belongs to, as far as a report names it (the query string is left out: it may hold tokens). */
export interface RequestLabel {
  readonly method: string;
  readonly path: string;
}

/** The middlewares (by their emitter) that have printed the one process warning already. */
const warned = new WeakSet<SessionEvents>();

/**
 * A change made to a session after its request was committed (fire-and-forget code, a timer, a
 * callback, middleware above qsession() after it returned) can never be saved. Throwing would end
 * the process (the throw lands in a timer, nobody catches it), so, as koa-session and
 * express-session do, the change is dropped; unlike them, it is said: a `warning` event each time
 * a request first makes one, and one process warning per middleware.
 */
export function reportLateChange(events: SessionEvents, change: string, request: RequestLabel | undefined): void {
  const route = request ? `${request.method} ${request.path}` : 'its request';
  const message =
    `koa-qsession: ${change} after the response to ${route} was committed; the session change was dropped. ` +
    'Such a change (in a timer, a callback or fire-and-forget code that outlived the request, or in middleware ' +
    'above qsession() after it returned) can never be saved: make it before the response is sent (await the work in the handler).';
  if (!warned.has(events)) {
    warned.add(events);
    process.emitWarning(message, { code: 'QSESSION_LATE_CHANGE' });
  }
  events.emit('warning', { message });
}
