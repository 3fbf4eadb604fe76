import Koa from 'koa';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { qsession, session, type QSessionMiddleware, type QSessionOptions } from 'koa-qsession';
import { createEvents } from '../../src/core/events.js';
import { Lifecycle } from '../../src/core/lifecycle.js';
import { resolveOptions } from '../../src/internal.js';
import { jsonSerializer, type SessionStore } from 'koa-qsession';

/** A Lifecycle on `store`, to drive overlapping requests step by step without HTTP. */
export function lifecycleOn(store: SessionStore, options: QSessionOptions = {}): Lifecycle {
  return new Lifecycle({ options: resolveOptions(options), store, serializer: jsonSerializer, events: createEvents() });
}

export const OK = { isStatic: false, failed: false } as const;

export interface Response {
  status: number;
  body: string;
  /** The session cookie the response set: an id, '' when it was cleared, undefined when untouched. */
  cookie: string | undefined;
}

export interface TestApp {
  readonly sessions: QSessionMiddleware;
  request(path: string, cookie?: string): Promise<Response>;
  /** Resolves when a `/slow-set` request is inside its handler (its session already loaded). */
  slowEntered(): Promise<void>;
  /** Lets the waiting `/slow-set` request finish. */
  releaseSlow(): void;
  close(): Promise<void>;
}

/**
 * A Koa app with routes that change the session from the query string:
 * `/set?k=v`, `/slow-set?k=v` (waits for `releaseSlow()` before changing), `/destroy`,
 * `/regenerate`, `/dump` (the session as JSON).
 */
export async function startApp(options: QSessionOptions): Promise<TestApp> {
  const app = new Koa();
  app.silent = true; // the 503s the fault specs provoke are expected; keep Koa from logging them
  const sessions = qsession(options);
  let entered: () => void = () => undefined;
  let enteredPromise = new Promise<void>((resolve) => (entered = resolve));
  let release: () => void = () => undefined;
  let releasePromise = new Promise<void>((resolve) => (release = resolve));
  app.use(sessions);
  app.use(async (ctx) => {
    const query = ctx.query as Record<string, string>;
    switch (ctx.path) {
      case '/set':
        for (const [key, value] of Object.entries(query)) session.set(key, value);
        break;
      case '/slow-set':
        entered();
        await releasePromise;
        for (const [key, value] of Object.entries(query)) session.set(key, value);
        break;
      case '/destroy':
        session.destroy();
        break;
      case '/regenerate':
        session.regenerate();
        break;
      case '/dump':
        break;
      default:
        ctx.status = 404;
        return;
    }
    ctx.body = JSON.stringify(session.toJSON());
  });
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    sessions,
    async request(path, cookie) {
      const response = await fetch(base + path, { headers: cookie ? { cookie: `session=${cookie}` } : {} });
      const set = response.headers.getSetCookie().find((line) => line.startsWith('session='));
      return { status: response.status, body: await response.text(), cookie: set === undefined ? undefined : set.slice(8, set.indexOf(';')) };
    },
    slowEntered: () => enteredPromise,
    releaseSlow() {
      release();
      enteredPromise = new Promise<void>((resolve) => (entered = resolve));
      releasePromise = new Promise<void>((resolve) => (release = resolve));
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      // A store passed in belongs to the test that made it.
      if (options.store === undefined) await sessions.close();
    },
  };
}
