import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromQuartConfig, qsession, SessionOptionsError, type QSessionOptions } from 'koa-qsession';
import { resolveOptions } from '../../src/internal.js';

const rejects = (options: unknown, option: string) =>
  assert.throws(
    () => qsession(options as QSessionOptions),
    (error: unknown) => error instanceof SessionOptionsError && error.option === option && error.message.includes(option),
    `expected an error naming ${option}`,
  );

describe('options', () => {
  it("defaults are Quart-Session's", () => {
    const resolved = resolveOptions();
    assert.equal(resolved.keyPrefix, 'session:');
    assert.equal(resolved.permanent, true);
    assert.equal(resolved.lifetime, 31 * 24 * 3600 * 1000);
    assert.equal(resolved.explicit, false);
    assert.equal(resolved.staticFile, false);
    assert.deepEqual(resolved.cookie, {
      name: 'session', path: '/', domain: undefined, httpOnly: true, secure: false, sameSite: 'lax', partitioned: false, priority: undefined,
    });
  });

  it('every bad option is an error at start-up that names it', () => {
    rejects({ keyPrefix: 'spaces are bad' }, 'keyPrefix');
    rejects({ lifetime: -1 }, 'lifetime');
    rejects({ lifetime: 1.5 }, 'lifetime');
    rejects({ explicit: 'yes' }, 'explicit');
    rejects({ cookie: { name: 'bad name' } }, 'cookie.name');
    rejects({ cookie: { path: 'no-slash' } }, 'cookie.path');
    rejects({ cookie: { sameSite: 'sometimes' } }, 'cookie.sameSite');
    rejects({ cookie: { sameSite: 'none' } }, 'cookie.sameSite');
    rejects({ cookie: { domian: 'x' } }, 'cookie.domian');
    rejects({ type: 'mongodb' }, 'type');
    rejects({ store: {} }, 'store');
    rejects({ storeTimeout: 0 }, 'storeTimeout');
    rejects({ onStoreError: 'ignore' }, 'onStoreError');
    rejects({ idFormat: 'hex' }, 'idFormat');
    rejects({ SESSION_TYPE: 'redis' }, 'SESSION_TYPE');
  });

  it('fromQuartConfig maps SESSION_* settings and ignores the rest of the config', () => {
    const options = fromQuartConfig({
      SESSION_TYPE: 'Memory',
      SESSION_KEY_PREFIX: 'app:',
      SESSION_PERMANENT: false,
      SESSION_EXPLICIT: true,
      SESSION_STATIC_FILE: true,
      SESSION_COOKIE_NAME: 'sid',
      SESSION_COOKIE_SAMESITE: null,
      SESSION_COOKIE_SECURE: true,
      PERMANENT_SESSION_LIFETIME: 3600,
      SECRET_KEY: 'ignored here',
    });
    assert.deepEqual(options, {
      type: 'memory',
      keyPrefix: 'app:',
      permanent: false,
      explicit: true,
      staticFile: true,
      lifetime: 3_600_000,
      cookie: { name: 'sid', sameSite: false, secure: true },
    });
    assert.doesNotThrow(() => qsession(options));
  });

  it('fromQuartConfig maps SESSION_URI and SESSION_REDIS onto the redis option (a shared client wins)', () => {
    assert.deepEqual(fromQuartConfig({ SESSION_TYPE: 'redis', SESSION_URI: 'redis://127.0.0.1:1' }), { type: 'redis', redis: 'redis://127.0.0.1:1' });
    const client = { isOpen: true } as never;
    assert.equal(fromQuartConfig({ SESSION_URI: 'redis://127.0.0.1:1', SESSION_REDIS: client }).redis, client);
    assert.equal(fromQuartConfig({ SESSION_REDIS: client, SESSION_URI: 'redis://127.0.0.1:1' }).redis, client);
  });

  it('fromQuartConfig maps SESSION_MEMCACHED and SESSION_FILE_DIR', () => {
    assert.deepEqual(fromQuartConfig({ SESSION_TYPE: 'memcached', SESSION_MEMCACHED: '127.0.0.1:11211' }), { type: 'memcached', memcached: '127.0.0.1:11211' });
    assert.deepEqual(fromQuartConfig({ SESSION_TYPE: 'filesystem', SESSION_FILE_DIR: '/tmp/s' }), { type: 'filesystem', directory: '/tmp/s' });
  });

  it('fromQuartConfig refuses SESSION_* settings it does not know', () => {
    assert.throws(() => fromQuartConfig({ SESSION_TYPO: 1 }), /SESSION_TYPO/);
  });
});
