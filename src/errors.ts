/**
 * The package ships an ES module build and a CommonJS build, and an application can load both (its
 * own code imports one, a dependency requires the other). The session storage is shared between
 * them (a `Symbol.for` key), so an error made by one build reaches code holding the other's classes.
 * The rule: `instanceof` works across builds (and across copies of koa-qsession). Each class carries
 * its kind under this global symbol, and `instanceof` also accepts an object whose prototype chain
 * has a constructor of the same kind. Subclasses an application writes get the plain rule.
 */
const ERROR_KIND = Symbol.for('koa-qsession.error-kind');

function ownKind(constructor: unknown): unknown {
  return (typeof constructor === 'function' && Object.hasOwn(constructor, ERROR_KIND) ? (constructor as unknown as Record<symbol, unknown>)[ERROR_KIND] : undefined);
}

/**
 * Every error koa-qsession throws is a `QSessionError` with a stable `code`, so applications can
 * branch on `err.code` instead of parsing messages.
 */
export class QSessionError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }

  /** `instanceof` that also recognises the same class from the other build (see ERROR_KIND above). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    const kind = ownKind(this);
    if (kind === undefined || typeof value !== 'object' || value === null) return false;
    for (let proto: unknown = Object.getPrototypeOf(value); proto !== null && typeof proto === 'object'; proto = Object.getPrototypeOf(proto)) {
      if (ownKind((proto as { constructor?: unknown }).constructor) === kind) return true;
    }
    return false;
  }
}

/** One bad option: its full name (`cookie.maxAge`) and what is wrong with it. */
export interface OptionProblem {
  readonly option: string;
  readonly message: string;
}

/**
 * A bad option given to `qsession()` or a store; thrown at start-up, never per request. One error
 * lists every bad option of a config (`problems`; `option` is the first one's name), so a config
 * brought from another library is fixed in one round, not one restart per option.
 */
export class SessionOptionsError extends QSessionError {
  readonly option: string;
  readonly problems: readonly OptionProblem[];
  constructor(option: string, message: string) {
    super('ERR_QSESSION_OPTION', `koa-qsession: option "${option}" ${message}`);
    this.option = option;
    this.problems = [{ option, message }];
  }

  /** The error for these problems (at least one): the plain one for a single problem. */
  static of(problems: readonly OptionProblem[]): SessionOptionsError {
    const [first] = problems;
    if (first === undefined) throw new TypeError('SessionOptionsError.of needs at least one problem');
    const error = new SessionOptionsError(first.option, first.message);
    if (problems.length === 1) return error;
    const lines = problems.map(({ option, message }) => `  - option "${option}" ${message}`);
    error.message = `koa-qsession: ${problems.length} options are wrong:\n${lines.join('\n')}`;
    // The stack's first line was written from the first problem's message: write it again.
    Error.captureStackTrace?.(error, SessionOptionsError.of);
    (error as { problems: readonly OptionProblem[] }).problems = [...problems];
    return error;
  }
}

/** `session` used where no request is running, or an API misused (e.g. a reserved key). */
export class SessionUsageError extends QSessionError {
  constructor(message: string) {
    super('ERR_QSESSION_USAGE', `koa-qsession: ${message}`);
  }
}

/**
 * The store failed or did not answer within `storeTimeout`. Answered 503 by default
 * (`expose` is false: the client never sees store details).
 */
export class SessionStoreError extends QSessionError {
  readonly operation: string;
  readonly status = 503;
  readonly expose = false;
  constructor(operation: string, message: string, options?: { cause?: unknown }) {
    super('ERR_QSESSION_STORE', `koa-qsession: store ${operation} failed: ${message}`, options);
    this.operation = operation;
  }
}

/** A value the serializer cannot represent. `path` names the key, e.g. `cart.items[2]`. */
export class SessionSerializationError extends QSessionError {
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('ERR_QSESSION_SERIALIZE', `koa-qsession: cannot serialize session value at "${path}": ${message}`, options);
    this.path = path;
  }
}

/**
 * The serialized session is larger than `maxSize` (or a store's own item limit). `largest` names
 * the biggest keys (at most 3, biggest first, each with its serialized size) when they are known.
 */
export class SessionTooLargeError extends QSessionError {
  readonly size: number;
  readonly limit: number;
  readonly largest: ReadonlyArray<{ readonly key: string; readonly bytes: number }>;
  constructor(size: number, limit: number, what = 'maxSize', largest: ReadonlyArray<{ readonly key: string; readonly bytes: number }> = []) {
    const keys = largest.map(({ key, bytes }) => `${JSON.stringify(key.slice(0, 64))} (${bytes} bytes)`).join(', ');
    super('ERR_QSESSION_TOO_LARGE', `koa-qsession: serialized session is ${size} bytes, over the ${what} of ${limit} bytes${keys ? `; largest keys: ${keys}` : ''}`);
    this.size = size;
    this.limit = limit;
    this.largest = largest.map(({ key, bytes }) => ({ key: key.slice(0, 64), bytes }));
  }
}

/**
 * One value of a loaded session that the serializer could not read, met when the handler first reads
 * that key (values are decoded lazily, so the rest of the session works and is kept as stored).
 * Carries the key (at most 64 characters) and the kind of failure, never the value.
 */
export class SessionValueDecodeError extends QSessionError {
  readonly key: string;
  constructor(key: string, serializer: string, failure: unknown) {
    const kind = failure instanceof Error ? failure.name : typeof failure;
    super('ERR_QSESSION_DECODE', `koa-qsession: the ${serializer} serializer could not read the session value ${JSON.stringify(key.slice(0, 64))} (${kind})`, { cause: failure });
    this.key = key.slice(0, 64);
  }
}

/**
 * A stored value the serializer could not read. Carries the session's label (a short hash of its id,
 * the one `pin-mismatch` uses) and the kind of failure only: the id is a bearer credential, parser
 * messages quote the input, and the input is session data; none of them may reach logs.
 */
export class SessionDecodeError extends QSessionError {
  /** The session's label: the first 12 base64url characters of SHA-256(id), never the id itself. */
  readonly session: string;
  constructor(session: string, serializer: string, failure: unknown) {
    const kind = failure instanceof Error ? failure.name : typeof failure;
    super('ERR_QSESSION_DECODE', `koa-qsession: the ${serializer} serializer could not read the stored session ${session} (${kind})`);
    this.session = session;
  }
}

/**
 * A key this request changed was also changed by another save after this request read it
 * (`keys`), or the session was retired (login / logout) or expired while the request ran
 * (`reason: 'gone'`). Nothing of the request was stored. Answered 409 (`expose`: the message names
 * keys, never values); retrying the request (it reads the session anew) is safe.
 */
export class SessionConflictError extends QSessionError {
  readonly keys: readonly string[];
  readonly reason: 'changed' | 'gone';
  readonly status = 409;
  readonly expose = true;
  constructor(keys: readonly string[], reason: 'changed' | 'gone') {
    super(
      'ERR_QSESSION_CONFLICT',
      reason === 'gone'
        ? 'koa-qsession: the session ended (logged out, regenerated or expired) while this request ran; its changes were not saved'
        : `koa-qsession: another request changed ${keys.map((key) => JSON.stringify(key.slice(0, 64))).join(', ')} after this one read it; this request's changes were not saved`,
    );
    this.keys = keys;
    this.reason = reason;
  }
}

/**
 * The request's cookie names a stored session this app cannot read (another app's: Flask-Session's
 * pickle or msgpack) and the handler changed the session. Nothing is written and the cookie is left
 * as it is, so the other app's user stays logged in. Answered 409.
 */
export class SessionForeignError extends QSessionError {
  readonly session: string;
  readonly status = 409;
  readonly expose = true;
  constructor(session: string) {
    super(
      'ERR_QSESSION_FOREIGN',
      `koa-qsession: the session cookie names a stored session (${session}) this app's serializer cannot read, probably another app's; it was left alone and this request's session changes were not saved`,
    );
    this.session = session;
  }
}

// The kinds: written out, not taken from `name`, which a minifier may change in one build only.
for (const [constructor, kind] of [
  [QSessionError, 'QSessionError'],
  [SessionOptionsError, 'SessionOptionsError'],
  [SessionUsageError, 'SessionUsageError'],
  [SessionStoreError, 'SessionStoreError'],
  [SessionSerializationError, 'SessionSerializationError'],
  [SessionTooLargeError, 'SessionTooLargeError'],
  [SessionDecodeError, 'SessionDecodeError'],
  [SessionValueDecodeError, 'SessionValueDecodeError'],
  [SessionConflictError, 'SessionConflictError'],
  [SessionForeignError, 'SessionForeignError'],
] as const) {
  Object.defineProperty(constructor, ERROR_KIND, { value: kind });
}
