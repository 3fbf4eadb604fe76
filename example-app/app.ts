import Koa, { type Context } from 'koa';
import serve from 'koa-static';
import { fileURLToPath } from 'node:url';
import { qsession, session, type QSessionOptions } from 'koa-qsession';
import { readForm } from './form.js';
import { counterPage, homePage, loginPage, logoutPage, notFoundPage, sessionPage, type Viewer } from './pages.js';

declare module 'koa-qsession' {
  interface SessionData {
    authenticated: boolean;
    username: string;
    visits: number;
  }
}

/** The demo's only password, printed on the login page: the example is about sessions, not accounts. */
export const DEMO_PASSWORD = 'secret';

type Handler = (ctx: Context) => Promise<void> | void;

function viewer(): Viewer {
  // A text-API login (GET /login) is authenticated without a name.
  return { username: session.get('authenticated') ? session.get('username', 'guest') : undefined };
}

/**
 * Browsers get the site; plain HTTP clients (curl, fetch: `Accept: *\/*`) get the Quart-Session
 * README's text example, unchanged: GET /login logs in, GET /logout logs out.
 */
function wantsPage(ctx: Context): boolean {
  return ctx.accepts('text/plain', 'html') === 'html';
}

/** Quart-Session's README quick start, as it has it (explicit mode; docs/migration.md shows it in Koa). */
const textRoutes: Record<string, Handler> = {
  'GET /': (ctx) => {
    ctx.body = session.get('authenticated') ? 'Welcome back!' : 'Welcome anonymous!';
  },
  'GET /login': (ctx) => {
    session.authenticated = true;
    session.dirty(); // mark session for saving
    ctx.body = 'Logged in!';
  },
  'GET /logout': (ctx) => {
    session.destroy();
    ctx.body = 'Logged out!';
  },
  'GET /counter': (ctx) => {
    session.visits = (session.visits ?? 0) + 1;
    session.dirty();
    ctx.body = `Visits: ${session.visits}`;
  },
};

async function login(ctx: Context): Promise<void> {
  const form = await readForm(ctx);
  const username = (form.get('username') ?? '').trim();
  if (username === '' || form.get('password') !== DEMO_PASSWORD) {
    ctx.status = 401;
    ctx.body = loginPage(viewer(), 'Wrong username or password.', username);
    return;
  }
  session.regenerate(); // new id on login: an id planted before login (fixation) is worth nothing
  session.authenticated = true;
  session.username = username;
  session.dirty(); // explicit mode: only marked sessions are saved
  seeOther(ctx, '/');
}

function logout(ctx: Context): void {
  session.destroy(); // deleted from the store, cookie cleared: a copy of the old cookie is worthless
  seeOther(ctx, '/');
}

function counter(ctx: Context): void {
  session.visits = (session.visits ?? 0) + 1;
  session.dirty();
  ctx.body = counterPage(viewer(), session.visits);
}

function showSession(ctx: Context): void {
  // A fresh session is not stored (explicit mode), so there is no id worth showing.
  const stored = !session.isNew;
  ctx.body = sessionPage(viewer(), stored ? session.id.slice(0, 8) : undefined, session.toJSON());
}

/** After a POST, 303 makes the browser GET the target (a reload does not resend the form). */
function seeOther(ctx: Context, path: string): void {
  ctx.redirect(path);
  ctx.status = 303;
}

const routes: Record<string, Handler> = {
  'GET /': (ctx) => void (ctx.body = homePage(viewer())),
  'GET /login': (ctx) => void (ctx.body = loginPage(viewer())),
  'POST /login': login,
  'GET /logout': (ctx) => void (ctx.body = logoutPage(viewer())),
  'POST /logout': logout,
  'GET /counter': counter,
  'GET /session': showSession,
};

/**
 * A browser sends Origin on every cross-site POST: refusing a foreign one stops login/logout CSRF
 * on top of the SameSite=Lax cookie. Requests without Origin (curl, old browsers) pass.
 */
function sameOrigin(ctx: Context): boolean {
  const origin = ctx.get('Origin');
  return origin === '' || origin === `${ctx.protocol}://${ctx.host}`;
}

/** The example site: explicit mode, so only logging in (or the counter) creates a session. */
export function createApp(options: QSessionOptions = {}) {
  const app = new Koa();
  const sessions = qsession({ explicit: true, ...options });
  // Sessions first, so static responses pass through them and show that they get no cookie.
  app.use(sessions);
  app.use(serve(fileURLToPath(new URL('./static', import.meta.url))));
  app.use(async (ctx) => {
    const method = ctx.method === 'HEAD' ? 'GET' : ctx.method;
    const route = `${method} ${ctx.path}`;
    if (method === 'GET' && !wantsPage(ctx) && textRoutes[route]) return textRoutes[route](ctx);
    const handler = routes[route];
    if (method === 'POST' && !sameOrigin(ctx)) ctx.throw(403, 'cross-site form post refused');
    ctx.type = 'html';
    if (handler) return handler(ctx);
    ctx.status = 404;
    ctx.body = notFoundPage(viewer());
  });
  return { app, sessions };
}
