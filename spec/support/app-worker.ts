// A Koa app with koa-qsession in a process of its own, for specs where several processes share one
// store. Usage:
//   node --conditions=source --import tsx spec/support/app-worker.ts '<qsession options as JSON>'
// Prints its port on the first line. Routes: /set?k=<key>&v=<value> sets one key, /dump answers the session.
import Koa from 'koa';
import type { AddressInfo } from 'node:net';
import { qsession, session, type QSessionOptions } from 'koa-qsession';

const options = JSON.parse(process.argv[2] ?? '{}') as QSessionOptions;
const app = new Koa();
app.silent = true;
const sessions = qsession(options);
app.use(sessions);
app.use((ctx) => {
  if (ctx.path === '/set') session.set(String(ctx.query.k), String(ctx.query.v));
  ctx.body = session.toJSON();
});
const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  void sessions.close().finally(() => process.exit(0));
});
