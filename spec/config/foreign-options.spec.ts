/**
 * Options people bring from koa-session and express-session get a pointer to ours, at start-up;
 * `cookie.partitioned` (CHIPS) and `cookie.priority` are supported, checked over real HTTP.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import Koa from 'koa';
import { qsession, session, SessionOptionsError, type QSessionOptions } from 'koa-qsession';
import { Client, parseSetCookie, serve, type Served } from '../support/http.js';

const served: Served[] = [];
after(() => Promise.all(served.map((s) => s.close())));

function refused(options: unknown, option: string, hint: RegExp): void {
  assert.throws(() => qsession(options as QSessionOptions), (error: unknown) => {
    assert.ok(error instanceof SessionOptionsError, String(error));
    assert.equal(error.option, option);
    assert.match(error.message, hint);
    return true;
  });
}

describe('koa-session / express-session option names: "did you mean"', () => {
  it('names the option that does the job here', () => {
    refused({ key: 'sid' }, 'key', /is not a koa-qsession option: the cookie name is `cookie: \{ name \}`/);
    refused({ name: 'sid' }, 'name', /cookie: \{ name \}/);
    refused({ secret: 'x'.repeat(32) }, 'secret', /keys: \[secret\]/);
    refused({ signed: true }, 'signed', /keys: \[\.\.\.\]/);
    refused({ genid: () => 'x' }, 'genid', /idFormat/);
    refused({ renew: true }, 'renew', /rolling: true/);
    refused({ resave: false }, 'resave', /session\.save\(\)` forces a write/);
    refused({ saveUninitialized: false }, 'saveUninitialized', /stored only once it holds data/);
    refused({ httpOnly: true }, 'httpOnly', /cookie: \{ httpOnly \}/);
    refused({ secure: true }, 'secure', /cookie: \{ secure \}/);
    refused({ overwrite: true }, 'overwrite', /always overwrites/);
    refused({ autoCommit: false }, 'autoCommit', /explicit: true/);
    refused({ encode: JSON.stringify }, 'encode', /serializer/);
    refused({ ttl: 1000 }, 'ttl', /`lifetime`/);
    refused({ prefix: 'sess:' }, 'prefix', /keyPrefix/);
    const connectStore = { get() {}, set() {}, destroy() {} };
    refused({ store: connectStore }, 'store', /looks like an express-session or koa-session store: wrap it.*fromKoaSessionStore.*fromExpressStore/);
  });

  it('cookie.maxAge / cookie.expires point at lifetime, permanent and session.cookie.maxAge', () => {
    refused({ cookie: { maxAge: 1000 } }, 'cookie.maxAge', /`lifetime` \(ms, top level\).*`permanent: false`.*session\.cookie\.maxAge/);
    refused({ cookie: { expires: new Date() } }, 'cookie.expires', /no fixed expiry date/);
    refused({ cookie: { signed: true } }, 'cookie.signed', /keys/);
  });

  it("maxAge: 'session' points at permanent: false; an unknown name mentions where koa-session's maxAge went", () => {
    refused({ maxAge: 'session' }, 'maxAge', /permanent: false/);
    refused({ sessionLength: 5 }, 'sessionLength', /koa-session: its `maxAge` is `lifetime` here/);
    refused({ lifetme: 5 }, 'lifetme', /did you mean "lifetime"\?/);
    refused({ cookie: { samesite: 'lax' } }, 'cookie.samesite', /did you mean "sameSite"\?/);
  });

  it('maxAge without lifetime warns that it is the absolute lifetime (and with lifetime, it does not)', async () => {
    const warnings: Error[] = [];
    const listen = (warning: Error) => warnings.push(warning);
    process.on('warning', listen);
    try {
      qsession({ maxAge: 86_400_000 });
      qsession({ maxAge: 86_400_000, lifetime: 3_600_000 });
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', listen);
    }
    const ours = warnings.filter((w) => (w as { code?: string }).code === 'QSESSION_MAXAGE_MEANING');
    assert.equal(ours.length, 1);
    assert.match(ours[0]!.message, /absolute lifetime.*koa-session's `maxAge`.*is `lifetime` here/s);
  });
});

describe('cookie.partitioned (CHIPS) and cookie.priority', () => {
  it('are sent on the session cookie', async () => {
    const app = new Koa({ proxy: true });
    app.use(qsession({ cookie: { partitioned: true, secure: true, sameSite: 'none', priority: 'high' } }));
    app.use((ctx) => {
      session.user = 'ann';
      ctx.body = 'ok';
    });
    const server = await serve(app);
    served.push(server);
    const reply = await new Client(server.url).get('/', { headers: { 'x-forwarded-proto': 'https' } });
    const cookie = parseSetCookie(reply.setCookies[0]!);
    assert.ok(cookie.attributes.has('partitioned'));
    assert.ok(cookie.attributes.has('secure'));
    assert.equal(cookie.attributes.get('priority'), 'high');
  });

  it('Partitioned without Secure, or a bad priority: refused at start-up', () => {
    refused({ cookie: { partitioned: true } }, 'cookie.partitioned', /requires cookie\.secure/);
    refused({ cookie: { priority: 'urgent' } }, 'cookie.priority', /"low", "medium" or "high"/);
    assert.doesNotThrow(() => qsession({ cookie: { partitioned: true, secure: 'auto' } }));
  });
});
