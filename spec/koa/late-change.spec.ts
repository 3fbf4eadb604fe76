/**
 * Issue 24 part 2: a session change made after the response (fire-and-forget code, a timer) never
 * ends the process. It is dropped, as koa-session and express-session drop it, and said: a
 * `warning` event naming the key and the route, and one process warning per middleware. Reads
 * keep working. A real Koa app over HTTP, the memory store.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Koa from 'koa';
import { qsession, session, type QSessionMiddleware } from 'koa-qsession';
import { Client, serve, type Served } from '../support/http.js';

describe('a session change after the response', () => {
  let served: Served;
  let sessions: QSessionMiddleware;
  const uncaught: unknown[] = [];
  const processWarnings: Error[] = [];
  const events: string[] = [];
  /** What the fire-and-forget code saw: each late call's outcome. */
  const seen: string[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);
  const onWarning = (warning: Error) => {
    if ((warning as { code?: string }).code === 'QSESSION_LATE_CHANGE') processWarnings.push(warning);
  };

  async function audit(): Promise<void> {
    await sleep(20);
    session.lastSeen = 1234; // the response has been sent by now
    seen.push(`read:${String(session.user)}`);
  }

  before(async () => {
    // A listener of our own: a throw in the timer would otherwise end this test process (Node's
    // default), and here it would be recorded and fail the assertions instead.
    process.on('uncaughtException', onUncaught);
    process.on('warning', onWarning);
    sessions = qsession({ type: 'memory' });
    sessions.on('warning', ({ message }) => events.push(message));
    const app = new Koa();
    app.use(sessions);
    app.use(async (ctx) => {
      if (ctx.path === '/login') {
        session.user = 'ann';
      } else if (ctx.path === '/audit') {
        void audit();
      } else if (ctx.path === '/everything-late') {
        setTimeout(() => {
          const calls: Array<[string, () => unknown]> = [
            ['delete', () => delete session.user],
            ['set', () => session.set('x', 1)],
            ['clear', () => session.clear()],
            ['touch', () => session.touch()],
            ['save', () => session.save()],
            ['dirty', () => session.dirty()],
            ['permanent', () => { session.permanent = false; }],
            ['maxAge', () => { session.cookie.maxAge = 1000; }],
            ['regenerate', () => session.regenerate()],
            ['destroy', () => session.destroy()],
            ['ctx.session = null', () => { ctx.session = null; }],
          ];
          for (const [name, call] of calls) {
            try {
              call();
              seen.push(`${name}:ok`);
            } catch (error) {
              seen.push(`${name}:${(error as Error).name}`);
            }
          }
          session.reload().then(
            () => seen.push('reload:resolved'),
            (error: unknown) => seen.push(`reload:${(error as Error).name}`),
          );
          seen.push(`read:${String(session.user)}:${session.keys().join(',')}`);
        }, 20);
      }
      ctx.body = JSON.stringify(session.toJSON());
    });
    served = await serve(app);
  });

  after(async () => {
    process.off('uncaughtException', onUncaught);
    process.off('warning', onWarning);
    await served.close();
    await sessions.close();
  });

  it('is dropped with a warning event naming the key and the route; the process lives on and reads still work', async () => {
    const browser = new Client(served.url);
    await browser.get('/login');
    assert.equal((await browser.get('/audit')).status, 200);
    await sleep(120);
    assert.deepEqual(uncaught, [], 'nothing reached uncaughtException');
    assert.deepEqual(seen, ['read:ann'], 'the late read worked, after the late write returned normally');
    assert.equal(events.length, 1);
    assert.match(events[0]!, /set "lastSeen"/);
    assert.match(events[0]!, /GET \/audit/);
    assert.match(events[0]!, /dropped/);
    assert.equal((await browser.get('/')).text, '{"user":"ann"}', 'the change was not stored');
    await sleep(50); // process warnings are emitted on the next tick
    assert.equal(processWarnings.length, 1);
    assert.match(processWarnings[0]!.message, /set "lastSeen".*GET \/audit/);
  });

  it('every kind of change is dropped without a throw (reload resolves); one event per request, one process warning per middleware', async () => {
    const browser = new Client(served.url);
    await browser.get('/login');
    seen.length = 0;
    events.length = 0;
    assert.equal((await browser.get('/everything-late')).status, 200);
    await sleep(150);
    assert.deepEqual(uncaught, []);
    assert.deepEqual(seen, [
      'delete:ok', 'set:ok', 'clear:ok', 'touch:ok', 'save:ok', 'dirty:ok', 'permanent:ok', 'maxAge:ok',
      'regenerate:ok', 'destroy:ok', 'ctx.session = null:ok', 'read:ann:user', 'reload:resolved',
    ]);
    assert.equal(events.length, 1, 'the first late change of the request is reported, the rest dropped with it');
    assert.match(events[0]!, /delete "user".*GET \/everything-late/);
    assert.equal((await browser.get('/')).text, '{"user":"ann"}', 'the session is as the request left it');
    await sleep(50);
    assert.equal(processWarnings.length, 1, 'the process warning was printed once for this middleware');
  });
});
