// Bare Koa, no sessions: the ceiling for `anon` (read and write answer a constant).
import Koa from 'koa';
import { listen, ready } from './common.mjs';

const app = new Koa();
app.use((ctx) => {
  switch (ctx.path) {
    case '/setup': ctx.body = '0'; return;
    case '/anon': ctx.body = 'anon'; return;
    case '/read': ctx.body = '0'; return;
    case '/write': ctx.body = '1'; return;
  }
});
ready(await listen(app));
