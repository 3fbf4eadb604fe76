import { debuglog } from 'node:util';

/**
 * Debug logging: `NODE_DEBUG=koa-qsession` (or `NODE_DEBUG=koa*`, which Koa 3's own `koa:application`
 * log answers to as well). `util.debuglog` rather than the `debug` package: Koa 3 itself moved to it,
 * so one variable turns on both, and it costs no dependency. Lines never carry a session id or data,
 * only an id's label (`idLabel`), store operation names and timings.
 */
const log = debuglog('koa-qsession');

/**
 * NODE_DEBUG is read once, at start-up: when it is off, every call site is one branch on this
 * constant and nothing (no timing, no formatting) is done.
 */
export const debugEnabled: boolean = log.enabled === true;

export function debug(format: string, ...args: unknown[]): void {
  log(format, ...args);
}
