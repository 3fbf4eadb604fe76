// Bare Koa, no sessions: the ceiling for `anon` and the reference page for `page` (the same 5 ms
// wait, no session read). The other routes answer constants and are never measured.
import Koa from 'koa';
import { PAGE_WAIT_MS, listen, pause, ready } from './common.mjs';

const app = new Koa();
app.use(async (ctx) => {
  switch (ctx.path) {
    case '/anon': ctx.body = 'anon'; return;
    case '/page': await pause(PAGE_WAIT_MS); ctx.body = 'page'; return;
    case '/setup': case '/read': ctx.body = '0'; return;
    case '/write': ctx.body = '1'; return;
    case '/check': ctx.body = 'no sessions'; return;
  }
});
ready(await listen(app));
