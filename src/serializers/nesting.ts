import { SessionSerializationError } from '../errors.js';

/**
 * Deepest nesting of arrays and objects a stored session may have, counting the session dict itself
 * as level 1. The tagged-JSON decoder refuses more (Python's `json` does too: its recursion limit is
 * 1000), so the encoders refuse it as well, at write time: nothing accepted today is unreadable
 * tomorrow.
 */
export const MAX_NESTING = 1000;

/**
 * Throws `SessionSerializationError` when the JSON `text` nests deeper than `limit`. One pass over
 * the encoded text, so it holds for any encoder (whole session or one value) and whatever tags
 * added levels. `outerDepth`: levels around `text` in the stored session (1 for a value stored
 * under a top-level key).
 */
export function assertNesting(text: string, path: string, outerDepth = 0, limit = MAX_NESTING): void {
  let depth = outerDepth;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) throw tooDeep(path, limit);
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
}

/**
 * Runs an encoder that recurses once per level. A value nested so deep that the encoder runs out of
 * stack (tens of thousands of levels) is refused the same way, instead of a bare RangeError.
 */
export function encodeWithinStack<T>(path: string, encode: () => T): T {
  try {
    return encode();
  } catch (error) {
    if (error instanceof RangeError && /call stack/i.test(error.message)) throw tooDeep(path, MAX_NESTING);
    throw error;
  }
}

function tooDeep(path: string, limit: number): SessionSerializationError {
  return new SessionSerializationError(path, `the value is nested more than ${limit} levels deep (the session dict included), which the decoder and Python's json refuse`);
}
