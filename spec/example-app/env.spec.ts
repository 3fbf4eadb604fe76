import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createApp } from '../../example-app/app.js';
import { sessionOptionsFromEnv } from '../../example-app/options-from-env.js';
import { Client, serve, type Served } from '../support/http.js';

/** A browser asks for HTML; plain clients get the README's text example. */
const PAGE = { accept: 'text/html' };

const servers: Served[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

const login = {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: 'username=ada&password=secret',
};

async function start(env: NodeJS.ProcessEnv) {
  const { app } = createApp(sessionOptionsFromEnv(env));
  app.silent = true;
  const served = await serve(app);
  servers.push(served);
  return served.url;
}

describe('example app: environment switches', () => {
  it('defaults to the memory store with no pinning and no signing', () => {
    assert.deepEqual(sessionOptionsFromEnv({}), { type: 'memory' });
  });

  it('picks every store from SESSION_TYPE and its variable', () => {
    assert.deepEqual(sessionOptionsFromEnv({ SESSION_TYPE: 'redis', REDIS_URL: 'redis://127.0.0.1:1' }), { type: 'redis', redis: 'redis://127.0.0.1:1' });
    assert.deepEqual(sessionOptionsFromEnv({ SESSION_TYPE: 'memcached', MEMCACHED_SERVERS: '127.0.0.1:2,127.0.0.1:3' }), {
      type: 'memcached',
      memcached: '127.0.0.1:2,127.0.0.1:3',
    });
    assert.deepEqual(sessionOptionsFromEnv({ SESSION_TYPE: 'filesystem', SESSION_DIR: '/tmp/x' }), { type: 'filesystem', directory: '/tmp/x' });
  });

  it('refuses a store it does not know, naming it', () => {
    assert.throws(() => sessionOptionsFromEnv({ SESSION_TYPE: 'mongodb' }), /SESSION_TYPE=mongodb/);
  });

  it('SESSION_KEYS signs the cookie: a tampered cookie is anonymous', async () => {
    const url = await start({ SESSION_KEYS: 'first-key-0123456789,older-key-0123456789' });
    const browser = new Client(url, PAGE);
    await browser.request('/login', login);
    const cookie = browser.jar.get('session')!;
    assert.match(cookie, /^[\w-]+\.[\w-]+$/, 'id.signature');
    assert.match((await browser.get('/')).text, /Welcome back!/);
    const [id] = cookie.split('.');
    const forged = await new Client(url, PAGE).get('/', { cookie: `session=${id}.AAAA` });
    assert.match(forged.text, /Welcome anonymous!/);
  });

  it('SESSION_PINNING=1 with SESSION_REVERSE_PROXY=1: another address loses the session', async () => {
    const url = await start({ SESSION_PINNING: '1', SESSION_REVERSE_PROXY: '1' });
    const browser = new Client(url, PAGE);
    const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });
    await browser.request('/login', { ...login, headers: { ...login.headers, 'x-forwarded-for': '203.0.113.7' } });
    assert.match((await browser.get('/', from('203.0.113.7'))).text, /Welcome back!/);
    const cookie = browser.cookieHeader!;
    assert.match((await new Client(url, PAGE).get('/', { ...from('198.51.100.9'), cookie })).text, /Welcome anonymous!/);
  });
});
