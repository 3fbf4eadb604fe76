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
export const debugEnabled: boolean = typeof log.enabled === 'boolean' ? log.enabled : namedInNodeDebug('koa-qsession');

/** Node's own NODE_DEBUG rule (comma-separated sections, `*` wildcards, any case), for runtimes without `.enabled` (Bun). */
function namedInNodeDebug(section: string): boolean {
  const sections = (process.env.NODE_DEBUG ?? '').split(/[\s,]+/).filter(Boolean);
  return sections.some((pattern) =>
    new RegExp(`^${pattern.replace(/[|\\{}()[\]^$+?.]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i').test(section));
}

export function debug(format: string, ...args: unknown[]): void {
  log(format, ...args);
}
