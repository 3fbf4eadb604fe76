import { SessionOptionsError } from './errors.js';

/**
 * The option checks shared by `qsession()` and the stores' own constructors (a store can be built
 * on its own, `new MemoryStore({...})`): one wording for every rule, and the option's full name
 * (`memcached.timeout`) in every error.
 */
export function check<T>(name: string, value: T | undefined, fallback: T, valid: (v: unknown) => boolean, rule: string): T {
  if (value === undefined) return fallback;
  if (!valid(value)) throw new SessionOptionsError(name, `${rule} (got ${describe(value)})`);
  return value;
}

export function bool(name: string, value: boolean | undefined, fallback: boolean): boolean {
  return check(name, value, fallback, (v) => typeof v === 'boolean', 'must be true or false');
}

export function positiveInt(name: string, value: number | undefined, fallback: number): number {
  return check(name, value, fallback, (v) => Number.isSafeInteger(v) && (v as number) > 0, 'must be a positive whole number');
}

export function isFunction(value: unknown): boolean {
  return typeof value === 'function';
}

/**
 * Refuses any key of `object` not in `known`, naming it as `${scope}.${key}`. `hints` say what a
 * name from another library is called here; `note` is added for names without a hint.
 */
export function onlyKnownKeys(
  scope: string,
  object: object,
  known: readonly string[],
  what: string,
  hints: Readonly<Record<string, string>> = {},
  note?: string,
): void {
  for (const key of Object.keys(object)) {
    if (known.includes(key)) continue;
    const hint = Object.hasOwn(hints, key) ? hints[key] : note;
    throw new SessionOptionsError(scope ? `${scope}.${key}` : key, hint ? `is not ${what}: ${hint}` : `is not ${what}`);
  }
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}
