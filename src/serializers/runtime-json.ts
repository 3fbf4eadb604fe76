/**
 * Whether this runtime's `JSON.parse` can be trusted with session text, checked once per process.
 *
 * Node 24.21's `JSON.parse` re-keys objects after it has parsed certain others (issue 23): parse
 * `{"\u014d":1}`, then `{"\\":1}`, then `{"\u014d":1}` again, and the third comes back with the key
 * `"\"`. What one session's text left behind in the engine corrupts the reading of another's, and a
 * nested change then writes the wrong key back where a Python app loses it. Measured: only keys
 * written with an escape (`\u014d`, `\/`, `\n`, ...) come back wrong, and only on that line (Node 22,
 * 26 and Bun parse them right). The serializers' exact parser (tagged-json/py-json.ts) never asks the
 * engine to parse JSON, so on an affected runtime every text holding a backslash goes through it (a
 * text without one has no escaped key; most sessions have none, and keep the native parser's speed:
 * on the bench's read route the exact parser for every text cost about 4 µs a request on Node 24).
 * The fuzz spec (spec/serializers/runtime-json-fuzz.spec.ts) checks that rule on Node 24 with keys
 * biased towards escaped ones.
 */
import { parsePyJson, type NumberLiteral } from './tagged-json/py-json.js';

/** The warning's code, for `process.on('warning')` filters and the docs. */
export const RUNTIME_JSON_WARNING = 'QSESSION_RUNTIME_JSON';

let defect: string | undefined;
let checked = false;

/**
 * Undefined when this runtime's `JSON.parse` passes the self-test; otherwise what is wrong with it
 * (the warning's text). The first call runs the self-test and, on an affected runtime, emits ONE
 * process warning (code QSESSION_RUNTIME_JSON); every later call is a variable read. Serializers
 * call it from `prepare()` (start-up) and before their first parse (`loads` used standalone).
 */
export function runtimeJsonDefect(): string | undefined {
  if (!checked) {
    checked = true;
    if (rekeysEscapedKeys()) {
      defect =
        `koa-qsession: the JSON.parse of ${runtimeName()} gives some objects a wrong key after it has parsed ` +
        'certain others (after {"\\\\":1}, {"\\u014d":1} comes back as {"\\\\":1}: keys written with an escape are ' +
        "re-keyed). koa-qsession reads every session with its own parser on this runtime; other JSON.parse calls " +
        'in this process are still exposed. Node 22, Node 26 and Bun are not affected.';
      process.emitWarning(defect, { code: RUNTIME_JSON_WARNING });
    }
  }
  return defect;
}

/** True when session text may go to `JSON.parse` (the fast paths); false on an affected runtime. */
export function nativeJsonParseIsSafe(): boolean {
  return (checked ? defect : runtimeJsonDefect()) === undefined;
}

/**
 * The self-test: the three-parse sequence of issue 23, below a key of its own. At the top level it
 * proves nothing once the process has parsed a few other objects (the engine then no longer takes
 * the path that mis-reads: measured on Node 24.21, a `{"a":1}` and a `{"b":1}` parsed before hide
 * it), and every application has parsed JSON by start-up; below a first key no other text has
 * (random per process), the engine is in the state the sequence needs, however much it parsed.
 */
function rekeysEscapedKeys(): boolean {
  const probe = `qsession-json-self-test-${Math.random().toString(36).slice(2)}`;
  const victim = `{"${probe}":0,"\\u014d":1}`;
  JSON.parse(victim);
  JSON.parse(`{"${probe}":0,"\\\\":1}`);
  const again = JSON.parse(victim) as Record<string, unknown>;
  return !Object.hasOwn(again, '\u014d');
}

function runtimeName(): string {
  const bun = (process.versions as Record<string, string | undefined>).bun;
  return bun === undefined ? `Node.js ${process.version}` : `Bun ${bun}`;
}

/** Plain JSON read the way `JSON.parse` reads it (no `NaN` / `Infinity`), without the engine's parser. */
const PLAIN_JSON = {
  onNumber({ text, isInt }: NumberLiteral): number {
    // parsePyJson also accepts Python's NaN / Infinity / -Infinity; plain JSON does not.
    if (!isInt && (text === 'NaN' || text.endsWith('Infinity'))) throw new SyntaxError(`invalid JSON: ${text} is not a JSON number`);
    return Number(text);
  },
  onObject: (object: Record<string, unknown>): unknown => object,
};

/**
 * `JSON.parse(text)` where it can be trusted, the exact parser where it cannot (same values: numbers
 * as `Number` reads them, `__proto__` an own member, a duplicated key's last value). For the plain
 * JSON serializer. The exact parser's errors name a position, never the text; `JSON.parse`'s may quote
 * it, so callers that log them rethrow their own (as json.ts does).
 */
export function parseJson(text: string): unknown {
  return nativeJsonParseIsSafe() || !text.includes('\\') ? JSON.parse(text) : parsePyJson(text, PLAIN_JSON);
}
