import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import Koa from 'koa';
import { qsession, session, type SessionEventMap } from 'koa-qsession';
import { Client, serve, type Served } from '../support/http.js';

/**
 * Issue 17, pinning row: `proxyHops: 2` behind ONE real proxy. The X-Forwarded-For chain then has
 * fewer entries than hops; that must not be taken as "the socket address" (the proxy's, shared by
 * every client), or a thief who sends no X-Forwarded-For passes the pin. A real proxy process
 * (node:http) appends the address it received each request from, as nginx's
 * `$proxy_add_x_forwarded_for` does.
 */
const closers: Array<() => Promise<void>> = [];
after(() => Promise.all(closers.map((close) => close())));

async function startBehindOneProxy() {
  const app = new Koa();
  const sessions = qsession({ hijackProtection: true, reverseProxy: true, proxyHops: 2 });
  const mismatches: Array<SessionEventMap['pin-mismatch'][0]> = [];
  sessions.on('pin-mismatch', (event) => mismatches.push(event));
  app.use(sessions);
  app.use((ctx) => {
    if (ctx.path === '/login') session.user = 'ann';
    ctx.body = String(session.user ?? 'anonymous');
  });
  const upstream: Served = await serve(app);
  closers.push(upstream.close);
  const target = new URL(upstream.url);
  const proxy: Server = createServer((incoming, outgoing) => {
    const forwarded = [incoming.headers['x-forwarded-for'], incoming.socket.remoteAddress].filter(Boolean).join(', ');
    const forward = request(
      { host: target.hostname, port: target.port, path: incoming.url, method: incoming.method, headers: { ...incoming.headers, 'x-forwarded-for': forwarded } },
      (response) => {
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(outgoing);
      },
    );
    incoming.pipe(forward);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => {
    proxy.closeAllConnections();
    proxy.close(() => resolve());
  }));
  return { url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, mismatches };
}

describe('pinning fails closed on a short X-Forwarded-For chain (a real proxy, proxyHops: 2)', () => {
  it('a thief replaying a stolen cookie with no X-Forwarded-For does not get the session', async () => {
    const { url, mismatches } = await startBehindOneProxy();
    const victim = new Client(url);
    assert.equal((await victim.get('/login')).text, 'ann');
    const stolen = victim.cookieHeader!;
    const thief = new Client(url);
    assert.equal((await thief.get('/', { cookie: stolen })).text, 'anonymous');
    assert.equal(mismatches.length, 1, 'reported as a pin mismatch');
    assert.equal(mismatches[0]!.actual, 'unverified');
  });

  it('a correct two-proxy chain still pins and matches the client address', async () => {
    const { url } = await startBehindOneProxy();
    // The first proxy (simulated by the client here) wrote the client's address; ours appends its own view.
    const victim = new Client(url, { 'x-forwarded-for': '198.51.100.7' });
    assert.equal((await victim.get('/login')).text, 'ann');
    assert.equal((await victim.get('/')).text, 'ann');
    const thief = new Client(url);
    assert.equal((await thief.get('/', { cookie: victim.cookieHeader! })).text, 'anonymous');
  });
});
