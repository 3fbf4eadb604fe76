/**
 * Issue 24 part 3: one SessionOptionsError lists every bad option of a config (an express-session
 * config used to fail one option per start), and a `lifetime` / `maxAge` under a minute is said
 * to be in milliseconds at start-up.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import { qsession, SessionOptionsError, type QSessionOptions } from 'koa-qsession';

function optionsError(options: unknown): SessionOptionsError {
  try {
    qsession(options as QSessionOptions);
  } catch (error) {
    assert.ok(error instanceof SessionOptionsError, String(error));
    return error;
  }
  assert.fail('qsession() accepted the options');
}

describe('option errors: every bad option at once', () => {
  it('an express-session config is refused in one error that names all five of its options', () => {
    const error = optionsError({ secret: 'keyboard cat', resave: false, saveUninitialized: false, name: 'sid', cookie: { maxAge: 60_000 } });
    assert.deepEqual(error.problems.map((p) => p.option), ['secret', 'resave', 'saveUninitialized', 'name', 'cookie.maxAge']);
    assert.equal(error.option, 'secret', 'option stays the first problem (code that reads it keeps working)');
    assert.equal(error.code, 'ERR_QSESSION_OPTION');
    assert.match(error.message, /^koa-qsession: 5 options are wrong:\n/);
    // Each line carries its own hint.
    assert.match(error.message, /option "secret" is not a koa-qsession option: cookies are signed with `keys: \[secret\]`/);
    assert.match(error.message, /option "name" is not a koa-qsession option: the cookie name is `cookie: \{ name \}`/);
    assert.match(error.message, /option "cookie.maxAge" is not a cookie option: the cookie follows the session/);
    assert.match(error.stack ?? '', /^SessionOptionsError: koa-qsession: 5 options are wrong/, 'the stack starts with the whole message');
  });

  it('unknown names, bad values and bad cookie attributes are all listed together', () => {
    const error = optionsError({ lifetime: -1, rolling: 'yes', cookie: { sameSite: 'sometimes', secure: 2 }, keys: ['short', 42], idFromat: 'uuid' });
    assert.deepEqual(
      error.problems.map((p) => p.option).sort(),
      ['cookie.sameSite', 'cookie.secure', 'idFromat', 'keys[0]', 'keys[1]', 'lifetime', 'rolling'].sort(),
    );
    assert.match(error.message, /option "idFromat" is not a koa-qsession option: did you mean "idFormat"\?/);
    assert.match(error.message, /option "keys\[0\]" must be at least 16 bytes \(got 5\)/);
  });

  it("a bad store option is listed with the others (the store factory's checks and the resolver's in one error)", () => {
    const error = optionsError({ lifetime: -1, type: 'redis', redis: 'http://localhost:6379' });
    assert.deepEqual(error.problems.map((p) => p.option).sort(), ['lifetime', 'redis']);
    assert.match(error.message, /2 options are wrong/);
  });

  it('`lock` with `turnWait: 0` is refused at start-up (the lease would order nothing)', () => {
    const error = optionsError({ lock: true, turnWait: 0 });
    assert.deepEqual(error.problems.map((p) => p.option), ['turnWait']);
    assert.match(error.message, /must be above 0 with `lock`/);
  });

  it('a single problem is the plain error it always was', () => {
    const error = optionsError({ lifetime: 0 });
    assert.equal(error.option, 'lifetime');
    assert.deepEqual(error.problems, [{ option: 'lifetime', message: 'must be a positive whole number (got 0)' }]);
    assert.equal(error.message, 'koa-qsession: option "lifetime" must be a positive whole number (got 0)');
  });

  it('rules between cookie attributes are checked once each attribute is valid', () => {
    assert.equal(optionsError({ cookie: { partitioned: true, secure: false } }).option, 'cookie.partitioned');
    // A bad attribute alone is reported, not a combination rule built on it.
    assert.deepEqual(optionsError({ cookie: { name: 'a b', partitioned: true } }).problems.map((p) => p.option), ['cookie.name']);
  });

  it('any mix of bad options (fuzzed, seeded): the error lists exactly the bad ones, good ones beside them change nothing', () => {
    // Each entry: a bad top-level option or cookie attribute, and the name the error must give it.
    const bad: ReadonlyArray<readonly [string, unknown, string]> = [
      ['secret', 'keyboard cat', 'secret'], ['resave', false, 'resave'], ['saveUninitialized', true, 'saveUninitialized'],
      ['name', 'sid', 'name'], ['lifetime', '1h', 'lifetime'], ['rolling', 1, 'rolling'], ['storeTimeout', -5, 'storeTimeout'],
      ['pinning', 'loose', 'pinning'], ['userKey', '', 'userKey'], ['maxAge', 'session', 'maxAge'], ['serializer', 'yaml', 'serializer'],
      ['cookie.maxAge', 1000, 'cookie.maxAge'], ['cookie.sameSite', 'sometimes', 'cookie.sameSite'], ['cookie.httpOnly', 'yes', 'cookie.httpOnly'],
    ];
    const good: ReadonlyArray<readonly [string, unknown]> = [['permanent', false], ['keyPrefix', 'app:'], ['cookie.path', '/app'], ['rolling', true]];
    fc.assert(
      fc.property(fc.subarray([...bad], { minLength: 1 }), fc.subarray([...good]), (badOnes, goodOnes) => {
        const config: Record<string, unknown> & { cookie: Record<string, unknown> } = { type: 'memory', cookie: {} };
        for (const [name, value] of goodOnes) {
          if (name.startsWith('cookie.')) config.cookie[name.slice(7)] = value;
          else config[name] = value;
        }
        for (const [name, value] of badOnes) {
          if (name.startsWith('cookie.')) config.cookie[name.slice(7)] = value;
          else config[name] = value;
        }
        const error = optionsError(config);
        assert.deepEqual(error.problems.map((p) => p.option).sort(), badOnes.map(([, , option]) => option).sort());
        assert.equal(error.option, error.problems[0]!.option);
        if (badOnes.length > 1) assert.match(error.message, new RegExp(`^koa-qsession: ${badOnes.length} options are wrong:`));
      }),
      { seed: 24, numRuns: 150 },
    );
  });

  it('onConflict, lock and isWriter are known options', () => {
    for (const options of [{ onConflict: 'fail' }, { lock: true }, { isWriter: () => true }]) {
      const middleware = qsession({ type: 'memory', ...options } as QSessionOptions);
      void middleware.close();
    }
  });
});

describe('lifetime and maxAge under a minute: a start-up warning', () => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => {
    if ((warning as { code?: string }).code === 'QSESSION_SHORT_LIFETIME') warnings.push(warning);
  };
  beforeEach(() => {
    warnings.length = 0;
    process.on('warning', onWarning);
  });
  afterEach(() => {
    process.off('warning', onWarning);
  });
  const tick = () => new Promise((resolve) => setImmediate(resolve));

  it('`lifetime: 3600` (seconds, as Quart users think) is accepted and said to be 3.6 seconds', async () => {
    void qsession({ type: 'memory', lifetime: 3600 }).close();
    await tick();
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!.message, /`lifetime: 3600` is 3\.6 seconds: lifetime is in milliseconds, not seconds \(3600 seconds would be `lifetime: 3600000`\)/);
  });

  it('`maxAge` too; a lifetime of a minute or more says nothing', async () => {
    void qsession({ type: 'memory', lifetime: 3_600_000, maxAge: 1800 }).close();
    await tick();
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!.message, /`maxAge: 1800` is 1\.8 seconds/);
    void qsession({ type: 'memory', lifetime: 60_000 }).close();
    void qsession({ type: 'memory' }).close();
    await tick();
    assert.equal(warnings.length, 1);
  });
});
