import type Koa from 'koa';
import type { AddressInfo } from 'node:net';

export interface Served {
  readonly url: string;
  close(): Promise<void>;
}

/** Listens on a free loopback port. */
export function serve(app: Koa): Promise<Served> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
      server.closeIdleConnections?.();
    });
    server.keepAliveTimeout = 100;
  });
}

export interface Reply {
  readonly status: number;
  readonly text: string;
  readonly headers: Headers;
  /** The raw Set-Cookie lines. */
  readonly setCookies: string[];
}

/** A tiny browser: remembers cookies the server sets (one path, one host), sends them back. */
export class Client {
  readonly jar = new Map<string, string>();
  /** `defaultHeaders` go on every request that does not set them itself (e.g. a browser's Accept). */
  constructor(readonly base: string, readonly defaultHeaders: Record<string, string> = {}) {}

  get cookieHeader(): string | undefined {
    return this.jar.size ? [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ') : undefined;
  }

  async request(path: string, init: RequestInit & { cookie?: string } = {}): Promise<Reply> {
    const headers = new Headers(init.headers);
    for (const [name, value] of Object.entries(this.defaultHeaders)) if (!headers.has(name)) headers.set(name, value);
    const cookie = init.cookie ?? this.cookieHeader;
    if (cookie !== undefined) headers.set('cookie', cookie);
    const response = await fetch(this.base + path, { ...init, headers, redirect: 'manual' });
    const text = await response.text();
    const setCookies = response.headers.getSetCookie();
    for (const line of setCookies) this.remember(line);
    return { status: response.status, text, headers: response.headers, setCookies };
  }

  get(path: string, init: RequestInit & { cookie?: string } = {}): Promise<Reply> {
    return this.request(path, init);
  }

  private remember(line: string): void {
    const [pair = '', ...attributes] = line.split(';');
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const expires = attributes.map((a) => a.trim()).find((a) => a.toLowerCase().startsWith('expires='));
    const expired = expires !== undefined && Date.parse(expires.slice(8)) <= Date.now();
    if (value === '' || expired) this.jar.delete(name);
    else this.jar.set(name, value);
  }
}

/** Parses one Set-Cookie line into its name, value and lower-cased attributes. */
export function parseSetCookie(line: string): { name: string; value: string; attributes: Map<string, string> } {
  const [pair = '', ...rest] = line.split(';');
  const eq = pair.indexOf('=');
  const attributes = new Map<string, string>();
  for (const part of rest) {
    const [key = '', ...value] = part.trim().split('=');
    attributes.set(key.toLowerCase(), value.join('='));
  }
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attributes };
}
