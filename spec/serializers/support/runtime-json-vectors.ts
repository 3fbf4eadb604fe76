/**
 * The two real sessions of issue 23, as Redis holds them (JSON text; `\\` and `\u...` are JSON escapes
 * inside it). Read A, then B, with Node 24.21's JSON.parse and B's `v` has the keys
 * `[" u", "\\", "a\u2028b"]`: the `\u0253` key is re-keyed to the backslash key of A.
 */
export const SESSION_A = String.raw`{"_permanent":true,"v":{" u":{" t":[{" m":""},{" di":{" b__":"ccyxzy\\\\"}},{" di":{" b__":{}}},{" t":[true,-824]}]},"\\":{" t":[{" b":"IborLMASpg=="}]},"\uea6b":158}}`;
export const SESSION_B = String.raw`{"_permanent":true,"v":{" u":{" t":[]},"\u0253":{" b":"rGLIrqA="},"a\u2028b":{" d":"Mon, 26 Oct 4696 20:41:52 GMT"}}}`;

/** B's `v` keys, decoded. */
export const B_KEYS = [' u', '\u0253', 'a\u2028b'];
/** What an affected JSON.parse gives for them after reading A. */
export const B_KEYS_REKEYED = [' u', '\\', 'a\u2028b'];
