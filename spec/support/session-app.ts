import Koa from 'koa';
import type { AddressInfo } from 'node:net';
import { qsession, session, type QSessionMiddleware, type QSessionOptions } from 'koa-qsession';

export interface SessionApp {
  readonly sessions: QSessionMiddleware;
  /** GET `path` with an optional session id; returns status, body and the id the response set ('' when cleared). */
  request(path: string, id?: string): Promise<{ status: number; body: string; id: string | undefined }>;
  close(): Promise<void>;
}

/** A Koa app with /set?v=, /get, /logout over real HTTP, for store specs that go through the middleware. */
export async function startSessionApp(options: QSessionOptions): Promise<SessionApp> {
  const app = new Koa();
  const sessions = qsession(options);
  app.silent = true;
  app.use(sessions);
  app.use(async (ctx) => {
    if (ctx.path === '/set') session.set('v', String(ctx.query.v));
    if (ctx.path === '/logout') session.destroy();
    ctx.body = String(session.get('v') ?? 'none');
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    sessions,
    async request(path, id) {
      const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers: id ? { cookie: `session=${id}` } : {} });
      const cookie = /^session=([^;]*)/.exec(response.headers.get('set-cookie') ?? '');
      return { status: response.status, body: await response.text(), id: cookie?.[1] };
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await sessions.close();
    },
  };
}
