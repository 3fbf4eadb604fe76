import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { createApp } from '../../example-app/app.js';
import { Client, serve, type Served } from '../support/http.js';
import { freePort, waitForPort } from '../support/process.js';

const servers: Served[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

describe('example app', () => {
  it("answers the README's routes", async () => {
    const { app } = createApp();
    const served = await serve(app);
    servers.push(served);
    const browser = new Client(served.url);
    assert.equal((await browser.get('/')).text, 'Welcome anonymous!');
    assert.equal(browser.jar.size, 0, 'explicit mode: browsing creates no session');
    assert.equal((await browser.get('/login')).text, 'Logged in!');
    assert.equal((await browser.get('/')).text, 'Welcome back!');
    assert.equal((await browser.get('/counter')).text, 'Visits: 1');
    assert.equal((await browser.get('/counter')).text, 'Visits: 2');
    const css = await browser.get('/style.css');
    assert.equal(css.status, 200);
    assert.deepEqual(css.setCookies, []);
    assert.equal((await browser.get('/logout')).text, 'Logged out!');
    assert.equal((await browser.get('/')).text, 'Welcome anonymous!');
  });

  it('`npm start` serves it on PORT with the memory store', async () => {
    const port = await freePort();
    const child = spawn('npm', ['start'], { env: { ...process.env, PORT: String(port) }, stdio: 'pipe', detached: true });
    try {
      await waitForPort(port, 20_000);
      const reply = await new Client(`http://127.0.0.1:${port}`).get('/');
      assert.equal(reply.text, 'Welcome anonymous!');
    } finally {
      process.kill(-child.pid!, 'SIGTERM');
    }
  });
});
