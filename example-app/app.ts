import Koa from 'koa';
import serve from 'koa-static';
import { fileURLToPath } from 'node:url';
import { qsession, session, type QSessionOptions } from 'koa-qsession';

declare module 'koa-qsession' {
  interface SessionData {
    authenticated: boolean;
    visits: number;
  }
}

/** The README's example as a Koa app: explicit mode, so only /login creates a session. */
export function createApp(options: QSessionOptions = {}) {
  const app = new Koa();
  const sessions = qsession({ explicit: true, ...options });
  // Sessions first, so static responses pass through them and show that they get no cookie.
  app.use(sessions);
  app.use(serve(fileURLToPath(new URL('./static', import.meta.url))));
  app.use(async (ctx, next) => {
    switch (ctx.path) {
      case '/':
        ctx.body = session.get('authenticated') ? 'Welcome back!' : 'Welcome anonymous!';
        return;
      case '/login':
        session.authenticated = true;
        session.dirty(); // mark session for saving
        ctx.body = 'Logged in!';
        return;
      case '/logout':
        session.destroy();
        ctx.body = 'Logged out!';
        return;
      case '/counter':
        session.visits = (session.visits ?? 0) + 1;
        session.dirty();
        ctx.body = `Visits: ${session.visits}`;
        return;
      default:
        return next();
    }
  });
  return { app, sessions };
}
