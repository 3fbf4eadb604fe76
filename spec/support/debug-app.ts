// Run as a child process by spec/koa/debug-log.spec.ts (NODE_DEBUG is read at start-up): apps with
// signed cookies on one memory store, a few requests that refuse cookies, rotate a key and race a
// compare-and-set, then the ids they saw on stdout.
import { setTimeout as sleep } from 'node:timers/promises';
import Koa from 'koa';
import { MemoryStore, qsession, session } from 'koa-qsession';
import { Client, serve } from './http.js';

const store = new MemoryStore();
function app(keys: string[]): Koa {
  const koa = new Koa();
  // turnWait 0: the two overlapping requests below race as they would from two processes.
koa.use(qsession({ store, keys, turnWait: 0 }));
  koa.use(async (ctx) => {
    if (ctx.path === '/set') session.user = 'ann';
    if (ctx.path === '/slow') {
      const key = String(ctx.query.k);
      void session.user; // loaded before the other request saves
      await sleep(Number(ctx.query.ms));
      session[key] = 1;
    }
    ctx.body = 'ok';
  });
  return koa;
}
const OLD = 'old-key-0123456789abcdef';
const before = await serve(app([OLD]));
const after = await serve(app(['new-key-0123456789abcdef', OLD]));
const browser = new Client(before.url);
await browser.get('/set');
const ids = [browser.jar.get('session')!];
const rotated = new Client(after.url);
rotated.jar.set('session', ids[0]!);
await rotated.get('/read');
await new Client(after.url).get('/read', { cookie: 'session=forged.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
await new Client(after.url).get('/read', { cookie: 'session=not-an-id' });
await Promise.all([rotated.get('/slow?k=a&ms=80'), rotated.get('/slow?k=b&ms=10')]);
ids.push(rotated.jar.get('session')!);
await Promise.all([before.close(), after.close()]);
process.stdout.write(JSON.stringify(ids));
