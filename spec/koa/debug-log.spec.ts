/**
 * `NODE_DEBUG=koa-qsession` logs refused cookies and store calls with their duration, and never a
 * session id; without it nothing is written. Run in a child process: NODE_DEBUG is read at start-up.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../support/debug-app.ts', import.meta.url));

async function runApp(nodeDebug: string | undefined): Promise<{ ids: string[]; log: string }> {
  const env = { ...process.env };
  delete env.NODE_DEBUG;
  if (nodeDebug !== undefined) env.NODE_DEBUG = nodeDebug;
  const { stdout, stderr } = await run(process.execPath, ['--conditions=source', '--import', 'tsx', script], { env });
  return { ids: JSON.parse(stdout) as string[], log: stderr };
}

describe('debug logging (NODE_DEBUG=koa-qsession)', () => {
  it('logs store calls with their duration and refused cookies, never an id', async () => {
    const { ids, log } = await runApp('koa-qsession');
    assert.match(log, /KOA-QSESSION \d+: store memory create: ok in \d+\.\d ms/);
    assert.match(log, /cookie refused: bad signature; no store call/);
    assert.match(log, /cookie refused: not a well-formed id/);
    assert.match(log, /rotation: cookie of session [\w-]{12} re-issued under the first signing key/);
    assert.match(log, /compare-and-set conflict on session [\w-]{12}: merging this request's changes, retry 1/);
    assert.equal(ids.length, 2);
    for (const cookie of ids) {
      const id = cookie.split('.')[0]!;
      assert.ok(id.length >= 43);
      assert.ok(!log.includes(id), 'the session id never reaches the log');
    }
  });

  it('NODE_DEBUG=koa* (as for Koa 3 itself) turns it on too', async () => {
    assert.match((await runApp('koa*')).log, /KOA-QSESSION/);
  });

  it('is silent when off', async () => {
    // Node 24.21's JSON.parse defect is reported once whatever the debug setting (docs/runtimes-and-packaging.md).
    const log = (await runApp(undefined)).log.split('\n').filter((line) => line !== '' && !/QSESSION_RUNTIME_JSON|--trace-warnings/.test(line));
    assert.deepEqual(log, []);
  });
});
