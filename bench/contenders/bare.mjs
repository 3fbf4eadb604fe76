// Bare Koa, no sessions: the ceiling for `anon` (the other routes answer constants, never measured).
import Koa from 'koa';
import { listen, ready } from './common.mjs';

const app = new Koa();
app.use((ctx) => {
  switch (ctx.path) {
    case '/anon': ctx.body = 'anon'; return;
    case '/setup': case '/read': ctx.body = '0'; return;
    case '/write': ctx.body = '1'; return;
    case '/check': ctx.body = 'no sessions'; return;
  }
});
ready(await listen(app));
