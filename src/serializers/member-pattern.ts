/**
 * The fast path of the member scanner (see `splitMembers`): one regular expression that matches a
 * whole top-level member, `"key":value` and the `,` or `}` after it, validating the value as it goes.
 * The regex engine runs it as native code, several times faster than any loop over the characters in
 * JavaScript (about 5x on a 4 KB session, Node 24; `bench/micro-split.mjs`), so a load costs little
 * more for a large session than for a small one, and the whole text is still validated on every load.
 *
 * It only ever accepts valid JSON, and declines (no match) whatever it does not cover, for the exact
 * scanner to decide: whitespace between tokens (neither we nor Python's tagged JSON write any), and
 * values nested deeper than `DEPTH` (a regular expression cannot count brackets, so the grammar is
 * spelled out level by level). A text it accepts splits exactly as the scanner splits it: the members'
 * key and source text are the same, so the two cannot disagree (spec/serializers/members.spec.ts
 * checks it on random, mutated and invalid texts).
 *
 * V8 only (Node, Deno): its regex engine compiles the pattern to machine code. JavaScriptCore (Bun)
 * runs it about 50x slower than the scanner (measured: 580 µs against 12 µs on the 4 KB session), so
 * there every text goes through the scanner.
 */

/** Levels of arrays / objects inside a member's value the pattern covers; each doubles its size. */
const DEPTH = 5;

/** A JSON string: no control characters, only JSON's escapes. Unrolled, so it cannot backtrack badly. */
const STRING = String.raw`"[^"\\\x00-\x1f]*(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\\x00-\x1f]*)*"`;
const NUMBER = String.raw`-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?`;

function scalar(nonFinite: boolean): string {
  return `${STRING}|${NUMBER}|true|false|null${nonFinite ? '|NaN|-?Infinity' : ''}`;
}

/**
 * A value nested at most `depth` levels. An item is followed by `,` that is not followed by the
 * closing bracket, or by the closing bracket itself: one copy of the inner pattern per container
 * (`item(,item)*` would need two, and the pattern would grow four-fold per level).
 */
function value(depth: number, nonFinite: boolean): string {
  if (depth === 0) return `(?:${scalar(nonFinite)})`;
  const inner = value(depth - 1, nonFinite);
  return String.raw`(?:${scalar(nonFinite)}|\[(?:${inner}(?:,(?!\])|(?=\])))*\]|\{(?:${STRING}:${inner}(?:,(?!\})|(?=\})))*\})`;
}

/** The engine runs the pattern natively: V8 (Node reports its version; Bun reports `bun` beside a Node version, no `v8`). */
const NATIVE = typeof process === 'object' && typeof process.versions?.v8 === 'string' && process.versions.bun === undefined;

const patterns: Array<RegExp | null | undefined> = [NATIVE ? undefined : null, NATIVE ? undefined : null];

/**
 * `"key":value` then `,` or `}`, sticky: groups 1 (the key, quoted), 2 (the value's text), 3 (`,` or
 * `}`). Made when first needed; null when the engine would not run it natively or refuses a pattern
 * this size (then every text goes through the exact scanner).
 */
export function memberPattern(nonFinite: boolean): RegExp | null {
  const slot = nonFinite ? 1 : 0;
  let pattern = patterns[slot];
  if (pattern === undefined) {
    try {
      pattern = new RegExp(`(${STRING}):(${value(DEPTH, nonFinite)})([,}])`, 'y');
    } catch {
      pattern = null;
    }
    patterns[slot] = pattern;
  }
  return pattern;
}
