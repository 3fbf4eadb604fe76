import { SessionUsageError } from '../errors.js';

/**
 * `session.cookie`: this session's cookie lifetime, in express-session's shape. Only what can differ
 * per session is here; the cookie's other attributes are options of `qsession({ cookie })`.
 */
export interface SessionCookie {
  /**
   * This session's idle lifetime in ms (store TTL and cookie expiry, refreshed on every save), or
   * null for a browser-session cookie. Setting a number keeps it for this session on later requests
   * ("remember me for 30 days"); setting null (or koa-session's `'session'`) is `permanent = false`.
   */
  maxAge: number | null;
  /** When the cookie would expire if the session were saved now (null: a browser-session cookie). Settable. */
  expires: Date | null;
  toJSON(): { maxAge: number | null; expires: string | null };
}

/** What the cookie view needs of the session record. */
export interface CookieTarget {
  readonly permanent: boolean;
  readonly lifetime: number;
  setPermanent(value: boolean): void;
  setLifetime(ms: number): void;
}

const ATTRIBUTES = new Set(['name', 'path', 'domain', 'httpOnly', 'secure', 'sameSite', 'signed', 'overwrite', 'partitioned', 'priority']);

class CookieView {
  constructor(private readonly target: CookieTarget) {}

  get maxAge(): number | null {
    return this.target.permanent ? this.target.lifetime : null;
  }

  set maxAge(value: number | null | 'session') {
    if (value === null || value === 'session') {
      this.target.setPermanent(false);
      return;
    }
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new SessionUsageError(`session.cookie.maxAge must be a positive whole number of ms or null (got ${String(value)})`);
    }
    this.target.setLifetime(value);
  }

  get expires(): Date | null {
    return this.target.permanent ? new Date(Date.now() + this.target.lifetime) : null;
  }

  set expires(value: Date | null) {
    if (value === null) {
      this.target.setPermanent(false);
      return;
    }
    const at = value instanceof Date ? value.getTime() : NaN;
    if (!(at > Date.now())) throw new SessionUsageError('session.cookie.expires must be a Date in the future, or null');
    this.target.setLifetime(Math.max(1, at - Date.now()));
  }

  toJSON(): { maxAge: number | null; expires: string | null } {
    return { maxAge: this.maxAge, expires: this.expires?.toUTCString() ?? null };
  }
}

const handler: ProxyHandler<CookieView> = {
  set(view, prop, value) {
    if (prop === 'maxAge' || prop === 'expires') return Reflect.set(view, prop, value);
    const name = String(prop);
    throw new SessionUsageError(
      ATTRIBUTES.has(name)
        ? `session.cookie.${name} cannot be changed per session: set cookie.${name} in the qsession() options`
        : `session.cookie has maxAge and expires only (got "${name}")`,
    );
  },
  defineProperty(_, prop) {
    throw new SessionUsageError(`session.cookie.${String(prop)} cannot be defined`);
  },
};

export function createSessionCookie(target: CookieTarget): SessionCookie {
  return new Proxy(new CookieView(target), handler) as unknown as SessionCookie;
}
