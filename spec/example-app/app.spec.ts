import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { MemoryStore } from 'koa-qsession';
import { createApp } from '../../example-app/app.js';
import { Client, serve, type Served } from '../support/http.js';

/** A browser asks for HTML; plain clients get the README's text example. */
const PAGE = { accept: 'text/html' };
import { freePort, waitForPort } from '../support/process.js';

const servers: Served[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

async function start() {
  const store = new MemoryStore();
  const { app } = createApp({ store });
  app.silent = true;
  const served = await serve(app);
  servers.push(served);
  return { store, url: served.url, browser: new Client(served.url, PAGE) };
}

describe('example app', () => {
  it("answers the README's routes", async () => {
    const { store, browser } = await start();
    assert.match((await browser.get('/')).text, /Welcome anonymous!/);
    assert.match((await browser.get('/login')).text, /<form method="post" action="\/login"/);
    assert.equal(browser.jar.size, 0, 'explicit mode: browsing creates no session');
    assert.equal(store.size, 0);
    const login = await browser.request('/login', form({ username: 'ada', password: 'secret' }));
    assert.equal(login.status, 303);
    assert.equal(login.headers.get('location'), '/');
    assert.match((await browser.get('/')).text, /Welcome back!/);
    assert.match((await browser.get('/counter')).text, /Visits: 1/);
    assert.match((await browser.get('/counter')).text, /Visits: 2/);
    const css = await browser.get('/style.css');
    assert.equal(css.status, 200);
    assert.deepEqual(css.setCookies, []);
    assert.match((await browser.get('/logout')).text, /<button type="submit">Log out<\/button>/);
    assert.equal((await browser.request('/logout', { method: 'POST' })).status, 303);
    assert.match((await browser.get('/')).text, /Welcome anonymous!/);
    // What is left is the logout's retired-id marker (core/retired.ts), which expires in 30 s.
    assert.equal(store.size, 1, 'logout deleted the session');
  });

  it("answers plain HTTP clients with Quart-Session's README example: GET /login logs in", async () => {
    const { store, url } = await start();
    const client = new Client(url);
    assert.equal((await client.get('/')).text, 'Welcome anonymous!');
    assert.equal(client.jar.size, 0);
    assert.equal((await client.get('/login')).text, 'Logged in!');
    assert.equal(store.size, 1);
    assert.equal((await client.get('/')).text, 'Welcome back!');
    assert.equal((await client.get('/counter')).text, 'Visits: 1');
    assert.equal((await client.get('/logout')).text, 'Logged out!');
    assert.equal(client.jar.size, 0);
    assert.equal(store.size, 1, 'the session is gone; its retired-id marker stays 30 s');
    assert.equal((await client.get('/')).text, 'Welcome anonymous!');
  });

  it('refuses a wrong password or an empty username, and escapes what it echoes', async () => {
    const { store, browser } = await start();
    const wrong = await browser.request('/login', form({ username: '<b>ada</b>', password: 'nope' }));
    assert.equal(wrong.status, 401);
    assert.match(wrong.text, /Wrong username or password/);
    assert.match(wrong.text, /value="&lt;b&gt;ada&lt;\/b&gt;"/);
    assert.doesNotMatch(wrong.text, /<b>ada/);
    assert.equal((await browser.request('/login', form({ username: '  ', password: 'secret' }))).status, 401);
    assert.equal(store.size, 0);
    assert.equal(browser.jar.size, 0);
  });

  it('logs in with a fresh id, shows only the first 8 characters of it', async () => {
    const { browser } = await start();
    await browser.get('/counter');
    const before = browser.jar.get('session')!;
    await browser.request('/login', form({ username: 'ada', password: 'secret' }));
    const renewed = browser.jar.get('session')!;
    assert.notEqual(renewed, before, 'login regenerates the id');
    const page = (await browser.get('/session')).text;
    assert.match(page, new RegExp(`${renewed.slice(0, 8)}…`));
    assert.ok(!page.includes(renewed.slice(0, 9)), 'no more of the id than 8 characters');
    assert.match(page, /&quot;username&quot;: &quot;ada&quot;/);
    assert.match(page, /&quot;visits&quot;: 1/, 'regenerate() keeps the data');
  });

  it('refuses a form posted from another origin', async () => {
    const { browser } = await start();
    const init = form({ username: 'ada', password: 'secret' });
    const reply = await browser.request('/login', { ...init, headers: { ...init.headers, origin: 'https://evil.example' } });
    assert.equal(reply.status, 403);
    assert.equal(browser.jar.size, 0);
  });

  it('`npm start` serves it on PORT with the memory store', async () => {
    const port = await freePort();
    const child = spawn('npm', ['start'], { env: { ...process.env, PORT: String(port) }, stdio: 'pipe', detached: true });
    try {
      await waitForPort(port, 20_000);
      const reply = await new Client(`http://127.0.0.1:${port}`).get('/');
      assert.match(reply.text, /Welcome anonymous!/);
    } finally {
      process.kill(-child.pid!, 'SIGTERM');
    }
  });
});
