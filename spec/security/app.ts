// Shared by the security specs (not a spec itself): an app with session routes, a store that
// records and validates every key it is given, and an HTTP client that can choose its source address.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import Koa from 'koa';
import { MemoryStore, qsession, session, type QSessionOptions, type ReplaceResult, type SessionStore, type StoredValue, type UserSessionIndex } from 'koa-qsession';
import { parseSetCookie, serve, type Served } from '../support/http.js';

export const ID = /^[A-Za-z0-9_-]{43}$/;
// A session key, or the core's own markers beside one (core/retired.ts, the `lock` lease in core/session-line.ts).
const SESSION_KEY = /^session:[A-Za-z0-9_-]{43}(:retired|:lock)?$/;
const USER_KEY = /^session:user:[0-9a-f]{64}$/;

/** A real MemoryStore that records each call and every key that did not have a valid shape. */
export class CheckedStore implements SessionStore {
  readonly name = 'checked-memory';
  readonly calls: string[] = [];
  readonly badKeys: string[] = [];
  readonly userIndex: UserSessionIndex;
  constructor(readonly inner: MemoryStore = new MemoryStore()) {
    const index = inner.userIndex;
    this.userIndex = {
      add: (userKey, sessionKey, ttl) => this.note('index.add', userKey, USER_KEY) && this.noteKey(sessionKey) && index.add(userKey, sessionKey, ttl),
      remove: (userKey, sessionKey) => this.note('index.remove', userKey, USER_KEY) && this.noteKey(sessionKey) && index.remove(userKey, sessionKey),
      list: (userKey) => this.note('index.list', userKey, USER_KEY) && index.list(userKey),
    };
  }
  reset(): void {
    this.calls.length = 0;
  }
  private note(call: string, key: string, shape: RegExp): true {
    this.calls.push(call);
    if (!shape.test(key)) this.badKeys.push(key);
    return true;
  }
  private noteKey(key: string): true {
    if (!SESSION_KEY.test(key)) this.badKeys.push(key);
    return true;
  }
  get(key: string, refreshTtlMs?: number): Promise<StoredValue | null> {
    this.note(refreshTtlMs === undefined ? 'get' : 'get+touch', key, SESSION_KEY);
    return this.inner.get(key, refreshTtlMs);
  }
  create(key: string, value: StoredValue, ttlMs: number): Promise<boolean> {
    this.note('create', key, SESSION_KEY);
    return this.inner.create(key, value, ttlMs);
  }
  replace(key: string, expected: StoredValue, value: StoredValue, ttlMs: number): Promise<ReplaceResult> {
    this.note('replace', key, SESSION_KEY);
    return this.inner.replace(key, expected, value, ttlMs);
  }
  delete(key: string): Promise<void> {
    this.note('delete', key, SESSION_KEY);
    return this.inner.delete(key);
  }
  deleteIf(key: string, expected: StoredValue): Promise<ReplaceResult> {
    this.note('deleteIf', key, SESSION_KEY);
    return this.inner.deleteIf(key, expected);
  }
  touch(key: string, ttlMs: number): Promise<void> {
    this.note('touch', key, SESSION_KEY);
    return this.inner.touch(key, ttlMs);
  }
}

const servers: Served[] = [];
/** Call from an `after()` hook in each spec file. */
export const closeAll = () => Promise.all(servers.splice(0).map((s) => s.close()));

export interface Started {
  readonly store: CheckedStore;
  readonly sessions: ReturnType<typeof qsession>;
  readonly app: Koa;
  readonly url: string;
  client(localAddress?: string): Browser;
}

/**
 * An app with routes: /read, /set/:key?v=, /login/:user, /logout, /regenerate[?keep=a,b|none],
 * /json/:key?v=<json>, /destroy, /id, /bad (an unserializable value). `configure` runs before the middleware is added.
 */
export async function start(options: QSessionOptions = {}, configure?: (app: Koa) => void): Promise<Started> {
  const store = options.store instanceof CheckedStore ? options.store : new CheckedStore();
  const app = new Koa();
  app.silent = true;
  configure?.(app);
  const sessions = qsession({ store, ...options });
  app.use(sessions);
  app.use(async (ctx) => {
    const [, route, arg = ''] = ctx.path.split('/');
    const value = typeof ctx.query.v === 'string' ? ctx.query.v : 'x';
    switch (route) {
      case 'read':
        ctx.body = JSON.stringify(session.toJSON());
        return;
      case 'set':
        session.set(decodeURIComponent(arg), value);
        ctx.body = 'ok';
        return;
      case 'login':
        session.regenerate();
        session.user_id = decodeURIComponent(arg);
        ctx.body = session.id;
        return;
      case 'regenerate': {
        const keep = ctx.query.keep;
        session.regenerate(keep === undefined ? {} : { keep: keep === 'none' ? 'none' : keep === 'all' ? 'all' : String(keep).split(',') });
        ctx.body = session.id;
        return;
      }
      case 'json':
        session.set(decodeURIComponent(arg), JSON.parse(value) as unknown);
        ctx.body = 'ok';
        return;
      case 'destroy':
        session.destroy();
        ctx.body = 'ok';
        return;
      case 'id':
        ctx.body = session.id;
        return;
      case 'bad':
        session.ok = 1;
        session.fn = () => 1;
        ctx.body = 'ok';
        return;
      default:
        ctx.status = 404;
    }
  });
  const served = await serve(app);
  servers.push(served);
  return { store, sessions, app, url: served.url, client: (localAddress?: string) => new Browser(served.url, localAddress) };
}

export interface Reply {
  readonly status: number;
  readonly text: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly setCookies: string[];
}

/**
 * A tiny browser on node:http, so it can send from another loopback address (`localAddress`:
 * Linux routes all of 127.0.0.0/8 to lo) and send header bytes `fetch` would refuse.
 */
export class Browser {
  readonly jar = new Map<string, string>();
  constructor(
    readonly base: string,
    readonly localAddress?: string,
  ) {}

  get cookieHeader(): string | undefined {
    return this.jar.size ? [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ') : undefined;
  }

  get(path: string, init: { cookie?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...init.headers };
    const cookie = init.cookie ?? this.cookieHeader;
    if (cookie !== undefined) headers.cookie = cookie;
    return new Promise((resolve, reject) => {
      const req = request(this.base + path, { headers, localAddress: this.localAddress, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const setCookies = res.headers['set-cookie'] ?? [];
          for (const line of setCookies) this.remember(line);
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers, setCookies });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  }

  private remember(line: string): void {
    const { name, value, attributes } = parseSetCookie(line);
    const expires = attributes.get('expires');
    if (value === '' || (expires !== undefined && Date.parse(expires) <= Date.now())) this.jar.delete(name);
    else this.jar.set(name, value);
  }
}

export const sessionCookie = (lines: string[], name = 'session') => lines.map(parseSetCookie).find((c) => c.name === name);

/** Asserts the response cleared the session cookie. */
export function assertCleared(lines: string[], name = 'session'): void {
  const cookie = sessionCookie(lines, name);
  assert.equal(cookie?.value, '', 'the session cookie is cleared');
}
