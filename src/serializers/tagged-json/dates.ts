/**
 * The `" d"` tag's text. Flask (and the format spec) write an HTTP date in UTC with whole seconds;
 * Quart 0.18 (Debian's python3-quart) writes `datetime.isoformat(timespec="microseconds")` and
 * reads with `datetime.fromisoformat`, falling back to the HTTP date. We read both, and write the
 * HTTP date (readable by every version, an aware datetime to Python) or, on request, the naive ISO
 * form (see `DateFormat`). Python datetimes without a time zone are taken as UTC, as werkzeug's
 * `http_date` does.
 */

/**
 * How `" d"` values are written:
 * - `'http'`: `Tue, 02 Jan 2024 03:04:05 GMT`, whole seconds. Flask and Quart 0.18 read it as an
 *   aware UTC datetime.
 * - `'naive-utc'`: `2024-01-02T03:04:05.123000`, what Quart 0.18 writes for `datetime.utcnow()`. Quart
 *   0.18 reads it back as a naive datetime, so its `datetime.utcnow() - session['login_at']` works
 *   (against an aware one it raises TypeError). Flask's reader (werkzeug `parse_date`) gives None.
 */
export type DateFormat = 'http' | 'naive-utc';

export const DATE_FORMATS: readonly DateFormat[] = ['http', 'naive-utc'];

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
// Python's datetime covers years 1 to 9999.
const MIN_TIME = utcYear(1);
const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `Tue, 02 Jan 2024 03:04:05 GMT`. Milliseconds are dropped (floored), as Python drops microseconds. */
export function httpDate(date: Date): string {
  const time = checkedTime(date);
  const d = new Date(Math.floor(time / 1000) * 1000);
  return `${DAYS[d.getUTCDay()]}, ${pad(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCFullYear(), 4)} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} GMT`;
}

/**
 * `2024-01-02T03:04:05.123000`: the UTC wall time without an offset, as Python's
 * `datetime.utcnow().isoformat(timespec="microseconds")`; the microseconds are the milliseconds.
 */
export function naiveUtcIsoDate(date: Date): string {
  const time = checkedTime(date);
  const d = new Date(time);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}000`;
}

/** The time of a Date Python can hold, or a RangeError (the serializer names the key). */
function checkedTime(date: Date): number {
  const time = date.getTime();
  if (Number.isNaN(time)) throw new RangeError('an invalid Date cannot be stored');
  if (time < MIN_TIME || time > MAX_TIME) throw new RangeError('Python datetimes cover the years 1 to 9999 only');
  return time;
}

/** Midnight of 1 January of `year`. Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear does not. */
function utcYear(year: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, 0, 1);
  return d.getTime();
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?)?(Z|[+-]\d{2}(?::?\d{2}(?::?\d{2}(?:\.\d{1,6})?)?)?)?)?$/;
const RFC2822 = /^(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{2,4})\s+(\d{2}):(\d{2})(?::(\d{2}))?\s*(GMT|UTC|UT|Z|[+-]\d{4})?$/;

/** Reads what either Python side writes (HTTP date or ISO 8601). The message never repeats the text. */
export function parsePyDate(text: string): Date {
  const trimmed = text.trim();
  const date = parseIso(trimmed) ?? parseRfc2822(trimmed);
  if (!date || Number.isNaN(date.getTime())) throw new RangeError('" d" holds no date Python would read');
  return date;
}

function utc(year: number, month: number, day: number, h: number, m: number, s: number, ms: number): Date {
  const d = new Date(Date.UTC(2000, month - 1, day, h, m, s, ms));
  d.setUTCFullYear(year);
  if (d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day || h > 23 || m > 59 || s > 59) return new Date(NaN);
  return d;
}

function offsetMs(zone: string | undefined): number {
  if (!zone || zone === 'Z' || zone === 'GMT' || zone === 'UTC' || zone === 'UT') return 0;
  const digits = zone.slice(1).replace(/:/g, '');
  const seconds = Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2, 4) || 0) * 60 + Number(digits.slice(4, 6) || 0);
  return (zone[0] === '-' ? -1 : 1) * seconds * 1000;
}

function parseIso(text: string): Date | undefined {
  const m = ISO.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
  // Date keeps milliseconds: microseconds are truncated.
  const ms = Number(frac.padEnd(3, '0').slice(0, 3));
  const local = utc(Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s), ms);
  return new Date(local.getTime() - offsetMs(zone));
}

function parseRfc2822(text: string): Date | undefined {
  const m = RFC2822.exec(text);
  if (!m) return undefined;
  const [, d, mon, y, h, mi, s = '0', zone] = m;
  const month = MONTHS.findIndex((name) => name.toLowerCase() === mon!.toLowerCase());
  if (month < 0) return undefined;
  let year = Number(y);
  // Python's email.utils: two-digit years below 50 are 20xx, others 19xx.
  if (y!.length <= 2) year += year < 50 ? 2000 : 1900;
  const local = utc(year, month + 1, Number(d), Number(h), Number(mi), Number(s), 0);
  return new Date(local.getTime() - offsetMs(zone));
}
