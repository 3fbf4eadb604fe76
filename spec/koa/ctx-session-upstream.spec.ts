/**
 * Issue 24 part 4: `ctx.session` reached where qsession() has not run (it is mounted after the
 * router) throws the global `session`'s SessionUsageError instead of being `undefined`, on the
 * app's very first request too; reading and assigning it below qsession() work as before.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import Koa from 'koa';
import { qsession, session, SessionUsageError, type QSessionMiddleware } from 'koa-qsession';
import { Client, serve, type Served } from '../support/http.js';

const served: Served[] = [];
const middlewares: QSessionMiddleware[] = [];
after(async () => {
  await Promise.all(served.map((s) => s.close()));
  await Promise.all(middlewares.map((m) => m.close()));
});

/** A "router" mounted before qsession(): `/routed` answers without reaching it. */
async function misorderedApp(): Promise<Client> {
  const app = new Koa();
  app.use(async (ctx, next) => {
    if (ctx.path !== '/routed') return next();
    let globalError: unknown;
    let ctxError: unknown;
    try {
      void session.user;
    } catch (error) {
      globalError = error;
    }
    try {
      void ctx.session.user;
    } catch (error) {
      ctxError = error;
    }
    ctx.body = {
      global: globalError instanceof SessionUsageError ? globalError.message : String(globalError),
      ctx: ctxError instanceof SessionUsageError ? ctxError.message : String(ctxError),
    };
  });
  const sessions = qsession({ type: 'memory' });
  middlewares.push(sessions);
  app.use(sessions);
  app.use((ctx) => {
    ctx.session.user = 'ann';
    ctx.body = JSON.stringify(ctx.session.toJSON());
  });
  const server = await serve(app);
  served.push(server);
  return new Client(server.url);
}

describe('ctx.session without qsession() upstream', () => {
  it("is the global session's SessionUsageError, on the app's first request and after qsession() has seen others", async () => {
    const client = await misorderedApp();
    const first = JSON.parse((await client.get('/routed')).text) as { global: string; ctx: string };
    assert.match(first.global, /outside a request handled by the qsession\(\) middleware/);
    assert.equal(first.ctx, first.global, 'the same error as the global session');
    assert.equal((await client.get('/other')).text, '{"user":"ann"}', 'below qsession() it works');
    const later = JSON.parse((await client.get('/routed')).text) as { global: string; ctx: string };
    assert.equal(later.ctx, first.global);
  });

  it('assigning ctx.session on a context qsession() never saw stays an ordinary property (another session library may own it)', async () => {
    const app = new Koa();
    app.use((ctx) => {
      (ctx as { session: unknown }).session = { mine: true };
      ctx.body = JSON.stringify(ctx.session);
    });
    const server = await serve(app);
    served.push(server);
    assert.equal((await new Client(server.url).get('/')).text, '{"mine":true}');
  });
});
