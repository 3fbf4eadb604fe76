import { SessionOptionsError, type OptionProblem } from './errors.js';

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
  const problems: OptionProblem[] = [];
  for (const key of Object.keys(object)) {
    if (known.includes(key)) continue;
    const near = closest(key, known);
    const hint = Object.hasOwn(hints, key) ? hints[key] : near !== undefined ? `did you mean "${near}"?` : note;
    problems.push({ option: scope ? `${scope}.${key}` : key, message: hint ? `is not ${what}: ${hint}` : `is not ${what}` });
  }
  // Every unknown name at once: a config brought from another library has several.
  if (problems.length > 0) throw SessionOptionsError.of(problems);
}

/**
 * Gathers the problems of a whole config, so that one SessionOptionsError lists them all. `take`
 * runs one check: its value, or (when the check throws a SessionOptionsError) `undefined`, which is
 * never used, since `throwIfAny` ends the resolution before anything reads it.
 */
export class OptionProblems {
  private readonly found: OptionProblem[] = [];

  get count(): number {
    return this.found.length;
  }

  take<T>(check: () => T): T {
    try {
      return check();
    } catch (error) {
      if (!(error instanceof SessionOptionsError)) throw error;
      for (const problem of error.problems) this.add(problem.option, problem.message);
      return undefined as T;
    }
  }

  /** A problem found by looking at options together; one already listed (two checks of one option) is not repeated. */
  add(option: string, message: string): void {
    if (!this.found.some((known) => known.option === option && known.message === message)) this.found.push({ option, message });
  }

  throwIfAny(): void {
    if (this.found.length > 0) throw SessionOptionsError.of(this.found);
  }
}

/** The known name within two edits of `name` (a typo, a case slip), if there is exactly one best. */
function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}
