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
      SESSION_COOKIE_SAMESITE: 'Strict',
      SESSION_COOKIE_SECURE: true,
      PERMANENT_SESSION_LIFETIME: 3600,
      SECRET_KEY: 'ignored here',
      DEBUG: true,
    });
    assert.deepEqual(options, {
      type: 'memory',
      keyPrefix: 'app:',
      permanent: false,
      explicit: true,
      staticFile: true,
      lifetime: 3_600_000,
      cookie: { name: 'sid', sameSite: 'strict', secure: true },
      idFormat: 'uuid',
      quartPinning: 'socket',
    });
    assert.doesNotThrow(() => qsession(options));
  });

  it('fromQuartConfig: None (null) means unset, whatever the key', () => {
    const options = fromQuartConfig({
      SESSION_TYPE: null,
      SESSION_KEY_PREFIX: null,
      SESSION_COOKIE_SAMESITE: null,
      SESSION_COOKIE_DOMAIN: null,
      SESSION_COOKIE_PATH: null,
      SESSION_REDIS: null,
      SESSION_URI: 'redis://127.0.0.1:1',
      SESSION_PROTECTION: null,
      SESSION_ID_LENGTH: null,
      PERMANENT_SESSION_LIFETIME: null,
      SECRET_KEY: null,
      SECRET_KEY_FALLBACKS: null,
    });
    // SESSION_TYPE None selects no store, so no store setting (SESSION_URI) is read either.
    assert.deepEqual(options, { idFormat: 'uuid', quartPinning: 'socket' });
    // Flask: no SESSION_COOKIE_PATH means APPLICATION_ROOT.
    assert.deepEqual(fromQuartConfig({ SESSION_COOKIE_PATH: null, APPLICATION_ROOT: '/app' }).cookie, { path: '/app' });
    assert.deepEqual(fromQuartConfig({ SESSION_COOKIE_PATH: '/x', APPLICATION_ROOT: '/app' }).cookie, { path: '/x' });
  });

  it('fromQuartConfig maps SESSION_URI and SESSION_REDIS onto the redis option (a shared client wins)', () => {
    assert.deepEqual(fromQuartConfig({ SESSION_TYPE: 'redis', SESSION_URI: 'redis://127.0.0.1:1' }), {
      type: 'redis', redis: 'redis://127.0.0.1:1', idFormat: 'uuid', quartPinning: 'socket',
    });
    assert.equal(fromQuartConfig({ SESSION_TYPE: 'redis+trio', SESSION_URI: 'redis://127.0.0.1:1' }).type, 'redis');
    // A node-redis client's shape (a plain data object would be a Python client, refused).
    const client = new (class { isOpen = true; withTypeMapping() { return this; } on() { return this; } listenerCount() { return 0; } })() as never;
    assert.equal(fromQuartConfig({ SESSION_TYPE: 'redis', SESSION_URI: 'redis://127.0.0.1:1', SESSION_REDIS: client }).redis, client);
    assert.equal(fromQuartConfig({ SESSION_TYPE: 'redis', SESSION_REDIS: client, SESSION_URI: 'redis://127.0.0.1:1' }).redis, client);
  });

  it('fromQuartConfig maps the memcached and filesystem settings', () => {
    assert.equal(fromQuartConfig({ SESSION_TYPE: 'memcached', SESSION_MEMCACHED: '127.0.0.1:11211' }).memcached, '127.0.0.1:11211');
    assert.equal(fromQuartConfig({ SESSION_TYPE: 'memcached', SESSION_MEMCACHED_HOST: '10.0.0.5' }).memcached, '10.0.0.5:11211');
    assert.equal(fromQuartConfig({ SESSION_TYPE: 'memcached', SESSION_MEMCACHED_HOST: '10.0.0.5', SESSION_MEMCACHED_PORT: 11311 }).memcached, '10.0.0.5:11311');
    const files = fromQuartConfig({ SESSION_TYPE: 'filesystem', SESSION_FILE_DIR: '/tmp/s', SESSION_FILE_THRESHOLD: 500, SESSION_FILE_MODE: 384 });
    assert.equal(files.type, 'filesystem');
    assert.equal(files.directory, '/tmp/s');
    assert.deepEqual(files.filesystem, { maxEntries: 500 });
  });

  it('fromQuartConfig: a Flask-Session 0.8 config makes base64url ids (token_urlsafe(32)) and no Quart pinning rule', () => {
    const options = fromQuartConfig({ SESSION_TYPE: 'redis', SESSION_ID_LENGTH: 32, SESSION_SERIALIZATION_FORMAT: 'msgpack' });
    assert.equal(options.idFormat, 'base64url');
    assert.equal(options.quartPinning, undefined);
  });

  it('fromQuartConfig: errors name the Python key', () => {
    const names = (config: Record<string, unknown>, key: string) =>
      assert.throws(() => fromQuartConfig(config), (error: unknown) => error instanceof SessionOptionsError && error.option === key && error.message.includes(`"${key}"`), key);
    names({ PERMANENT_SESSION_LIFETIME: -5 }, 'PERMANENT_SESSION_LIFETIME');
    names({ PERMANENT_SESSION_LIFETIME: '3600' }, 'PERMANENT_SESSION_LIFETIME');
    names({ SESSION_PERMANENT: 'yes' }, 'SESSION_PERMANENT');
    names({ SESSION_KEY_PREFIX: 'bad prefix' }, 'SESSION_KEY_PREFIX');
    names({ SESSION_COOKIE_NAME: 'bad name' }, 'SESSION_COOKIE_NAME');
    names({ SESSION_COOKIE_SAMESITE: 'None' }, 'SESSION_COOKIE_SAMESITE'); // SameSite=None needs Secure
    names({ SESSION_COOKIE_PATH: null, APPLICATION_ROOT: 'app' }, 'APPLICATION_ROOT');
    names({ SESSION_HIJACK_PROTECTION: 'on' }, 'SESSION_HIJACK_PROTECTION');
    names({ SESSION_REVERSE_PROXY: 1 }, 'SESSION_REVERSE_PROXY');
    names({ SESSION_TYPE: 'mongodb' }, 'SESSION_TYPE');
    names({ SESSION_TYPE: 'sqlalchemy' }, 'SESSION_TYPE');
    names({ SESSION_TYPE: 'redis', SESSION_URI: 'localhost:6379' }, 'SESSION_URI');
    names({ SESSION_TYPE: 'redis', SESSION_REDIS: 'Redis<ConnectionPool<Connection<host=localhost,port=6379,db=0>>>' }, 'SESSION_REDIS');
    names({ SESSION_ID_LENGTH: 16 }, 'SESSION_ID_LENGTH');
    names({ SESSION_TYPE: 'filesystem', SESSION_FILE_DIR: '/tmp/s', SESSION_FILE_THRESHOLD: 0 }, 'SESSION_FILE_THRESHOLD');
    names({ SESSION_COOKIE_PARTITIONED: true }, 'SESSION_COOKIE_PARTITIONED');
    names({ SESSION_USE_SIGNER: 'yes', SECRET_KEY: 'k'.repeat(32) }, 'SESSION_USE_SIGNER');
    names({ SESSION_USE_SIGNER: true, SECRET_KEY: 'short' }, 'SECRET_KEY');
    names({ SESSION_USE_SIGNER: true, SECRET_KEY: 'k'.repeat(32), SECRET_KEY_FALLBACKS: ['short'] }, 'SECRET_KEY_FALLBACKS');
  });

  it('quartPinning must match the rule this app pins by, when pinning is on', () => {
    rejects({ quartPinning: 'xff' }, 'quartPinning');
    rejects({ hijackProtection: true, reverseProxy: true, quartPinning: 'socket' }, 'quartPinning');
    rejects({ hijackProtection: true, quartPinning: 'forwarded-for' }, 'quartPinning');
    assert.doesNotThrow(() => qsession({ hijackProtection: true, reverseProxy: true, quartPinning: 'forwarded-for' }));
    assert.doesNotThrow(() => qsession({ hijackProtection: true, quartPinning: 'socket' }));
    assert.doesNotThrow(() => qsession({ reverseProxy: true, quartPinning: 'socket' }), 'pinning off: nothing is compared');
    assert.doesNotThrow(() => qsession({ hijackProtection: true, getClientIp: () => undefined, quartPinning: 'socket' }));
    const proxied = fromQuartConfig({ SESSION_PROTECTION: true, SESSION_REVERSE_PROXY: true });
    assert.deepEqual([proxied.hijackProtection, proxied.reverseProxy, proxied.quartPinning], [true, true, 'forwarded-for']);
    assert.doesNotThrow(() => qsession(proxied));
  });

  it('fromQuartConfig refuses SESSION_* settings it does not know', () => {
    assert.throws(() => fromQuartConfig({ SESSION_TYPO: 1 }), /SESSION_TYPO/);
  });
});
