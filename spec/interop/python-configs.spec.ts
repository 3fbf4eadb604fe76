/**
 * `fromQuartConfig` takes the default config dicts as Python prints them (issue 14, point 5): real
 * Python for what Debian ships (Quart 0.18, Flask 2.2, Flask-Session 0.3.2) and, for Quart-Session 3.0,
 * Flask 3.1 and Flask-Session 0.8, dicts copied from their sources (spec/interop/fixtures/, each
 * with the place it came from), printed by /usr/bin/python3.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { fromQuartConfig, qsession, type QSessionOptions } from 'koa-qsession';
import { QUART_KEYS } from '../../src/config/quart.js';
import { ensurePythonPackages, runPythonJson } from './support/python-apps.js';

type Configs = Record<
  'quart_0_18_app' | 'quart_session_3_0' | 'flask_2_2_app' | 'flask_3_1_app' | 'flask_session_0_3_2' | 'flask_session_0_8',
  Record<string, unknown>
>;

const DAYS_31 = 31 * 24 * 3600 * 1000;

describe('fromQuartConfig takes the default configs as Python prints them', () => {
  let configs: Configs;
  before(() => {
    ensurePythonPackages();
    configs = runPythonJson<Configs>('print_configs.py');
  });

  const accepts = (name: keyof Configs, overrides: Record<string, unknown> = {}): QSessionOptions => {
    const options = fromQuartConfig({ ...configs[name], ...overrides });
    const middleware = qsession(options); // and the options pass qsession's own checks
    void middleware.close();
    return options;
  };

  it('Quart-Session 3.0 (on Quart 0.18): its setdefaults over the app config', () => {
    assert.match(String(configs.quart_session_3_0.SESSION_FILE_DIR), /quart_session$/);
    // Its default SESSION_TYPE "null" keeps nothing: refused (issue 23; spec/config/quart-config.spec.ts).
    assert.throws(() => accepts('quart_session_3_0'), { option: 'SESSION_TYPE' });
    // With a store named, the other stores' defaults (SESSION_FILE_DIR...) are ignored.
    assert.deepEqual(accepts('quart_session_3_0', { SESSION_TYPE: 'redis' }), {
      type: 'redis',
      lifetime: DAYS_31,
      cookie: { httpOnly: true, name: 'session', secure: false },
      rolling: true,
      permanent: true,
      keyPrefix: 'session:',
      staticFile: false,
      explicit: false,
      hijackProtection: false,
      reverseProxy: false,
      idFormat: 'uuid',
      quartPinning: 'socket',
    });
  });

  it('Quart 0.18 and Flask 2.2 app configs (real Python)', () => {
    const quart = accepts('quart_0_18_app');
    assert.equal(quart.lifetime, DAYS_31);
    assert.equal(quart.cookie?.path, undefined, "Quart 0.18's APPLICATION_ROOT is None");
    const flask = accepts('flask_2_2_app');
    assert.equal(flask.cookie?.path, '/', "Flask's APPLICATION_ROOT");
    assert.equal(flask.cookie?.sameSite, undefined, 'None is unset');
  });

  it('Flask 3.1 (SESSION_COOKIE_PARTITIONED, SECRET_KEY_FALLBACKS)', () => {
    const options = accepts('flask_3_1_app');
    assert.deepEqual(options.cookie, { name: 'session', httpOnly: true, secure: false, path: '/' });
    assert.equal(options.keys, undefined);
  });

  it('Flask-Session 0.3.2 (real Python) and 0.8 over Flask 3.1', () => {
    // Both default to SESSION_TYPE "null" (refused); None leaves the store to qsession()'s options.
    for (const name of ['flask_session_0_3_2', 'flask_session_0_8'] as const) assert.throws(() => accepts(name), { option: 'SESSION_TYPE' });
    assert.equal(accepts('flask_session_0_3_2', { SESSION_TYPE: null }).idFormat, 'uuid', "0.3.2's ids are str(uuid4())");
    const modern = accepts('flask_session_0_8', { SESSION_TYPE: null });
    assert.equal(modern.idFormat, 'base64url', "0.8's ids are token_urlsafe(32)");
    assert.equal(modern.quartPinning, undefined, 'Flask-Session writes no _addr');
    assert.equal(modern.type, undefined, 'no SESSION_TYPE: the default store');
    assert.equal(modern.directory, undefined, 'SESSION_FILE_DIR is read only for SESSION_TYPE "filesystem"');
  });

  it('every SESSION_* key of these configs is known, and docs/python-interop-config.md lists every known key', () => {
    const docs = readFileSync(new URL('../../docs/python-interop-config.md', import.meta.url), 'utf8');
    for (const config of Object.values(configs)) {
      for (const name of Object.keys(config)) if (name.startsWith('SESSION_')) assert.ok(Object.hasOwn(QUART_KEYS, name), name);
    }
    for (const name of Object.keys(QUART_KEYS)) assert.ok(docs.includes(`\`${name}\``), `${name} is missing from the docs table`);
  });
});
