import Koa from 'koa';
import { fromQuartConfig, qsession, RedisStore, type QSessionMiddleware, type QSessionOptions, type QuartSessionConfig, type SessionEventMap } from 'koa-qsession';
import { serve } from '../../support/http.js';

export interface KoaSide {
  readonly url: string;
  readonly middleware: QSessionMiddleware;
  readonly decodeErrors: SessionEventMap['decode-error'][0][];
  readonly pinMismatches: SessionEventMap['pin-mismatch'][0][];
  close(): Promise<void>;
}

/**
 * The Koa app of a mixed deployment, configured the way the issue says a migration is:
 * `qsession(fromQuartConfig(config))` with the Python app's own config.
 *   /whoami  the user id the Python app logged in, 401 when anonymous
 *   /visit   writes one unrelated key (koa_visits)
 *   /cart    the Python-written cart as JSON (`ctx.body = session.cart`)
 *   /note    the Python-written Markup as JSON
 *   /login   logs user 42 in on the Koa side, `login_at` = now (answers the Date it stored)
 * `extra`: options beside the converted config (`{ ...fromQuartConfig(config), ...extra }`).
 */
export async function startKoa(config: QuartSessionConfig, extra: QSessionOptions = {}): Promise<KoaSide> {
  const middleware = qsession({ ...fromQuartConfig(config), ...extra });
  const decodeErrors: KoaSide['decodeErrors'] = [];
  const pinMismatches: KoaSide['pinMismatches'] = [];
  middleware.on('decode-error', (event) => decodeErrors.push(event));
  middleware.on('pin-mismatch', (event) => pinMismatches.push(event));
  const app = new Koa();
  app.use(middleware);
  app.use((ctx) => {
    const { session } = ctx;
    switch (ctx.path) {
      case '/whoami':
        if (session.user_id === undefined) ctx.status = 401;
        else ctx.body = { user_id: session.user_id };
        return;
      case '/visit':
        session.koa_visits = ((session.koa_visits as number | undefined) ?? 0) + 1;
        ctx.body = { koa_visits: session.koa_visits };
        return;
      case '/cart':
        ctx.body = session.cart;
        return;
      case '/note':
        ctx.body = { note: session.note };
        return;
      case '/login':
        session.user_id = 42;
        session.login_at = new Date();
        ctx.body = { login_at: (session.login_at as Date).toISOString() };
        return;
      default:
        ctx.status = 404;
    }
  });
  // Connected before the first request, so a busy machine's first connect cannot hit storeTimeout.
  if (middleware.store instanceof RedisStore) await middleware.store.connect();
  const served = await serve(app);
  return {
    url: served.url,
    middleware,
    decodeErrors,
    pinMismatches,
    async close() {
      await served.close();
      await middleware.close();
    },
  };
}
