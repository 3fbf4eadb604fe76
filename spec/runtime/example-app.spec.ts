import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort, startServer, type ServerProcess } from '../support/process.js';

// The example app as users start it: `npm start` (Node + tsx) and `npm run start:bun` (Bun runs the
// TypeScript itself). Bun is the one test:matrix installed (QSESSION_BUN) or the one in .runtimes/.
const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');
const bunBinary = process.env.QSESSION_BUN || join(root, '.runtimes/node_modules/bun/bin/bun');
const onBun = 'Bun' in globalThis;

const runtimes: Array<{ name: string; command: string; args: string[]; skip?: string }> = [
  { name: 'Node', command: onBun ? 'node' : process.execPath, args: ['--conditions=source', '--import', 'tsx', 'example-app/server.ts'] },
  {
    name: 'Bun',
    command: onBun ? process.execPath : bunBinary,
    args: ['--conditions=source', 'example-app/server.ts'],
    skip: onBun || existsSync(bunBinary) ? undefined : 'no Bun here: `npm run runtimes` installs it',
  },
];

for (const runtime of runtimes) {
  describe(`the example app on ${runtime.name}`, { skip: runtime.skip }, () => {
    let server: ServerProcess | undefined;
    after(async () => server?.stop());

    it('logs in, remembers the session, logs out, and sets no cookie on static files', async () => {
      const port = await freePort();
      server = await startServer(runtime.command, runtime.args, port, { cwd: root, env: { PORT: String(port), NODE_ENV: 'test' } });
      const base = `http://127.0.0.1:${port}`;
      const home = await fetch(`${base}/`);
      assert.equal(await home.text(), 'Welcome anonymous!');
      assert.equal(home.headers.get('set-cookie'), null, 'explicit mode: no session, no cookie');
      const login = await fetch(`${base}/login`);
      assert.equal(await login.text(), 'Logged in!');
      const cookie = login.headers.get('set-cookie')?.split(';')[0];
      assert.ok(cookie);
      assert.equal(await (await fetch(`${base}/`, { headers: { cookie } })).text(), 'Welcome back!');
      const css = await fetch(`${base}/style.css`, { headers: { cookie } });
      assert.equal(css.status, 200);
      await css.arrayBuffer();
      assert.equal(css.headers.get('set-cookie'), null, 'a file stream is static: no cookie');
      const logout = await fetch(`${base}/logout`, { headers: { cookie } });
      assert.equal(await logout.text(), 'Logged out!');
      assert.equal(await (await fetch(`${base}/`, { headers: { cookie } })).text(), 'Welcome anonymous!');
    });
  });
}
