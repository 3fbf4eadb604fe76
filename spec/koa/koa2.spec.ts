import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import Koa2 from 'koa-v2';
import { qsession, session } from 'koa-qsession';
import { Client, serve, type Served } from '../support/http.js';

const servers: Served[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

describe('Koa 2 (peer range ^2.14)', () => {
  it('creates, reads and destroys sessions', async () => {
    const app = new Koa2();
    app.use(qsession());
    app.use((ctx) => {
      if (ctx.path === '/login') session.user = 'ann';
      if (ctx.path === '/logout') session.destroy();
      ctx.body = `${String(session.user)} ${ctx.session === undefined ? 'no' : 'same:' + String(ctx.session.id === session.id)}`;
    });
    const served = await serve(app);
    servers.push(served);
    const browser = new Client(served.url);
    assert.equal((await browser.get('/')).text, 'undefined same:true');
    await browser.get('/login');
    assert.equal((await browser.get('/')).text, 'ann same:true');
    await browser.get('/logout');
    assert.equal(browser.jar.size, 0);
    assert.equal((await browser.get('/')).text, 'undefined same:true');
  });
});
