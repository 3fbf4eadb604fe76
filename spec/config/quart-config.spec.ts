/**
 * `fromQuartConfig` on the config dicts the real Python libraries build (issue 23, point 2), read
 * from /usr/bin/python3 (support/build_quart_config.py), never typed here: Quart-Session 3.0's
 * `Session(app)` (the released package, vendored, on Debian's Quart 0.18), Debian's Flask-Session
 * 0.3.2 on Flask 2.2, and Flask-Session 0.8 over Flask 3.1 (their defaults copied from source, as
 * neither is packaged), each with the settings an app gives. Every dict carries the defaults of all
 * backends (SESSION_FILE_DIR is `<Python's cwd>/quart_session`); Python runs in a scratch folder so
 * those defaults point there, and nothing may appear in it or in this process's working directory.
 * An accepted dict must start `qsession()` on the store SESSION_TYPE names, shown with a real
 * Redis, memcached or folder holding the session a request wrote.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createClient } from 'redis';
import { fromQuartConfig, qsession, SessionOptionsError, type QSessionOptions } from 'koa-qsession';
import { QUART_KEYS } from '../../src/config/quart.js';
import { ensurePythonPackages } from '../interop/support/python-apps.js';
import { keysOn, startMemcached, type MemcachedServer } from '../support/memcached.js';
import { tempDir } from '../support/process.js';
import { PYTHON } from '../support/python.js';
import { startStandalone, type Standalone } from '../support/redis.js';
import { startSessionApp } from '../support/session-app.js';

type Config = Record<string, unknown>;
type Library = 'quart_session_3_0' | 'quart_session_3_0_app' | 'flask_session_0_3_2' | 'flask_session_0_8' | 'quart_0_18' | 'flask_2_2' | 'flask_3_1';
interface Case {
  readonly library: Library;
  readonly settings?: Config;
}

const builder = fileURLToPath(new URL('./support/build_quart_config.py', import.meta.url));
const child = fileURLToPath(new URL('./support/quart-config-child.ts', import.meta.url));
const run = promisify(execFile);

/** What each library builds from `settings`, by real Python in `cwd`; `error` when the library itself refuses them. */
function build<K extends string>(cwd: string, cases: Record<K, Case>): Record<K, { config?: Config; error?: string }> {
  const names = Object.keys(cases) as K[];
  const result = spawnSync(PYTHON, [builder], { cwd, input: JSON.stringify(names.map((name) => cases[name])), encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`build_quart_config.py failed (${result.status}):\n${result.stderr}`);
  const built = JSON.parse(result.stdout) as { config?: Config; error?: string }[];
  return Object.fromEntries(names.map((name, i) => [name, built[i]!])) as Record<K, { config?: Config; error?: string }>;
}

/** The error fromQuartConfig throws, checked to be the typed one. */
function refusal(config: Config): SessionOptionsError {
  try {
    fromQuartConfig(config);
  } catch (error) {
    assert.ok(error instanceof SessionOptionsError, String(error));
    return error;
  }
  assert.fail('fromQuartConfig accepted the config');
}

/** Store sub-options the options carry: only the selected store's may be there. */
const storeOptions = (options: QSessionOptions): string[] =>
  (['redis', 'memcached', 'directory', 'filesystem', 'memory', 'store'] as const).filter((name) => options[name] !== undefined);

describe('fromQuartConfig takes the configs Quart-Session, Flask and Flask-Session build, as they are', () => {
  let redis: Standalone;
  let memcached: MemcachedServer;
  let python: { path: string; remove: () => void };
  let files: { path: string; remove: () => void };
  let built: ReturnType<typeof buildAll>;
  /** What Python itself left in its folder (Flask-Session 0.3.2's filesystem interface makes its default folder). */
  let leftByPython: string[];
  const inOurCwd = ['quart_session', 'flask_session'].filter((name) => existsSync(join(process.cwd(), name)));

  function buildAll() {
    const url = redis.server.url;
    const client = { $redis_client: `${url}/0` };
    const redisType = { SESSION_TYPE: 'redis', SESSION_URI: url };
    return build(python.path, {
      qs30Null: { library: 'quart_session_3_0' },
      qs30Redis: { library: 'quart_session_3_0', settings: redisType },
      qs30RedisApp: { library: 'quart_session_3_0_app', settings: { ...redisType, PERMANENT_SESSION_LIFETIME: { $timedelta: 3600 } } },
      qs30Trio: { library: 'quart_session_3_0', settings: { SESSION_TYPE: 'redis+trio', SESSION_URI: url } },
      qs30RedisClient: { library: 'quart_session_3_0', settings: { SESSION_TYPE: 'redis', SESSION_REDIS: client } },
      qs30Memcached: { library: 'quart_session_3_0', settings: { SESSION_TYPE: 'memcached', SESSION_MEMCACHED_HOST: '127.0.0.1', SESSION_MEMCACHED_PORT: memcached.port } },
      qs30Filesystem: { library: 'quart_session_3_0', settings: { SESSION_TYPE: 'filesystem' } },
      fs032Null: { library: 'flask_session_0_3_2' },
      fs032Redis: { library: 'flask_session_0_3_2', settings: { SESSION_TYPE: 'redis' } },
      fs032RedisClient: { library: 'flask_session_0_3_2', settings: { SESSION_TYPE: 'redis', SESSION_REDIS: client } },
      fs032Memcached: { library: 'flask_session_0_3_2', settings: { SESSION_TYPE: 'memcached' } },
      fs032Filesystem: { library: 'flask_session_0_3_2', settings: { SESSION_TYPE: 'filesystem', SESSION_FILE_DIR: files.path } },
      fs032FilesystemDefault: { library: 'flask_session_0_3_2', settings: { SESSION_TYPE: 'filesystem' } },
      fs08Null: { library: 'flask_session_0_8' },
      fs08RedisClient: { library: 'flask_session_0_8', settings: { SESSION_TYPE: 'redis', SESSION_REDIS: client } },
      fs08Memcached: { library: 'flask_session_0_8', settings: { SESSION_TYPE: 'memcached' } },
      fs08Filesystem: { library: 'flask_session_0_8', settings: { SESSION_TYPE: 'filesystem', SESSION_FILE_DIR: files.path } },
      quart018: { library: 'quart_0_18' },
      flask22: { library: 'flask_2_2' },
      flask31: { library: 'flask_3_1' },
    });
  }
  const config = (name: keyof typeof built): Config => {
    const entry = built[name];
    assert.ok(entry.config, `${name}: the Python library refused it: ${entry.error}`);
    return entry.config;
  };

  before(async () => {
    ensurePythonPackages();
    python = tempDir('quart-config-cwd');
    files = tempDir('quart-config-files');
    redis = await startStandalone();
    memcached = await startMemcached();
    built = buildAll();
    leftByPython = readdirSync(python.path);
  });

  after(async () => {
    await redis?.cleanup();
    await memcached?.stop();
    // Nothing was written where a working directory's defaults point, Python's or ours.
    assert.deepEqual(python ? readdirSync(python.path) : [], leftByPython);
    assert.ok(!leftByPython.includes('quart_session'));
    assert.deepEqual(['quart_session', 'flask_session'].filter((name) => existsSync(join(process.cwd(), name))), inOurCwd);
    python?.remove();
    files?.remove();
  });

  /** One request that writes a session, through qsession(options); the new session's id. */
  async function writeOne(options: QSessionOptions, store: string): Promise<string> {
    const app = await startSessionApp(options);
    try {
      assert.equal(app.sessions.store.name, store);
      const reply = await app.request('/set?v=migrated');
      assert.equal(reply.status, 200);
      assert.ok(reply.id, 'the session got a cookie');
      assert.equal((await app.request('/get', reply.id)).body, 'migrated');
      return reply.id;
    } finally {
      await app.close();
    }
  }

  it('SESSION_TYPE "redis" (Quart-Session 3.0): the Redis of SESSION_URI, the other backends\' defaults ignored', async () => {
    const options = fromQuartConfig(config('qs30Redis'));
    assert.deepEqual(options, {
      type: 'redis',
      redis: redis.server.url,
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
    const id = await writeOne(options, 'redis');
    assert.equal((await redis.server.cli('EXISTS', `session:${id}`)).trim(), '1');
  });

  it('the whole app config Quart-Session copies, and "redis+trio": the same Redis store', async () => {
    const whole = fromQuartConfig(config('qs30RedisApp'));
    assert.equal(whole.lifetime, 3600_000, 'PERMANENT_SESSION_LIFETIME, a timedelta, as seconds');
    assert.deepEqual(storeOptions(whole), ['redis']);
    await writeOne(whole, 'redis');
    const trio = fromQuartConfig(config('qs30Trio'));
    assert.equal(trio.type, 'redis');
    assert.deepEqual(storeOptions(trio), ['redis']);
    await writeOne(trio, 'redis');
  });

  it('SESSION_TYPE "memcached": Quart-Session 3.0 at SESSION_MEMCACHED_HOST / _PORT; Flask-Session 0.3.2 and 0.8 at the default address', async () => {
    const quart = fromQuartConfig(config('qs30Memcached'));
    assert.equal(quart.type, 'memcached');
    assert.equal(quart.memcached, memcached.address);
    assert.deepEqual(storeOptions(quart), ['memcached']);
    const id = await writeOne(quart, 'memcached');
    assert.ok((await keysOn(memcached.port)).includes(`session:${id}`));
    for (const name of ['fs032Memcached', 'fs08Memcached'] as const) {
      const options = fromQuartConfig(config(name));
      assert.equal(options.type, 'memcached', name);
      assert.deepEqual(storeOptions(options), [], `${name}: SESSION_MEMCACHED None is memcached's default address`);
      const middleware = qsession(options);
      assert.equal(middleware.store.name, 'memcached');
      await middleware.close();
    }
  });

  it('SESSION_TYPE "filesystem" (Flask-Session 0.3.2, 0.8): the folder SESSION_FILE_DIR names, and no other', async () => {
    for (const name of ['fs032Filesystem', 'fs08Filesystem'] as const) {
      const options = fromQuartConfig(config(name));
      assert.equal(options.directory, files.path, name);
      assert.deepEqual(options.filesystem, { maxEntries: 500 }, `${name}: SESSION_FILE_THRESHOLD`);
      assert.deepEqual(storeOptions(options), ['directory', 'filesystem']);
      await writeOne(options, 'filesystem');
    }
    assert.ok(readdirSync(files.path).some((file) => file.endsWith('.s')), 'the sessions are files in SESSION_FILE_DIR');
    // Flask-Session's own default is <its cwd>/flask_session: mapped as named, nothing created yet.
    assert.equal(fromQuartConfig(config('fs032FilesystemDefault')).directory, join(python.path, 'flask_session'));
    // Quart-Session 3.0 has no filesystem backend at all.
    assert.match(built.qs30Filesystem.error ?? '', /No such session interface "filesystem"/);
  });

  it('SESSION_TYPE "null", every library\'s default, is refused naming SESSION_TYPE; the error\'s way out works', async () => {
    for (const name of ['qs30Null', 'fs032Null', 'fs08Null'] as const) {
      const error = refusal(config(name));
      assert.equal(error.option, 'SESSION_TYPE', name);
      assert.match(error.message, /^koa-qsession: option "SESSION_TYPE" is "null".*keeps no sessions.*"redis", "memcached", "filesystem"/);
      // What the message offers: SESSION_TYPE None and the store chosen in qsession()'s options.
      const options = { ...fromQuartConfig({ ...config(name), SESSION_TYPE: null }), redis: redis.server.url };
      assert.deepEqual(storeOptions(options), ['redis'], `${name}: no other store's default is read`);
      await writeOne(options, 'redis');
    }
  });

  it('no SESSION_TYPE (Quart 0.18, Flask 2.2 and 3.1 app configs): no store setting read, the default store', async () => {
    for (const name of ['quart018', 'flask22', 'flask31'] as const) {
      const options = fromQuartConfig(config(name));
      assert.equal(options.type, undefined, name);
      assert.deepEqual(storeOptions(options), [], name);
      const middleware = qsession(options);
      assert.equal(middleware.store.name, 'memory', name);
      await middleware.close();
    }
  });

  it('a Python client in SESSION_REDIS (Flask-Session 0.3.2\'s only way, 0.8, Quart-Session 3.0): an error that says what to pass, and that works', async () => {
    const url = `${redis.server.url}/0`;
    const cases = [['fs032RedisClient', 'redis.client.Redis'], ['fs08RedisClient', 'redis.client.Redis'], ['qs30RedisClient', 'redis.asyncio.client.Redis']] as const;
    for (const [name, pythonClass] of cases) {
      const dict = config(name);
      const client = dict.SESSION_REDIS as { __class__: string; repr: string };
      assert.equal(client.__class__, pythonClass, 'the client stays an object');
      for (const given of [dict, { ...dict, SESSION_REDIS: client.repr }]) {
        const error = refusal(given);
        assert.equal(error.option, 'SESSION_REDIS', name);
        assert.ok(error.message.includes('Python Redis client'), error.message);
        assert.ok(error.message.includes(JSON.stringify(url)), `${name}: names the URL to pass: ${error.message}`);
        assert.ok(error.message.includes('node-redis client'), error.message);
      }
      const options = fromQuartConfig({ ...dict, SESSION_REDIS: url });
      const id = await writeOne(options, 'redis');
      assert.equal((await redis.server.cli('EXISTS', `session:${id}`)).trim(), '1');
    }
    // The other way it offers: a connected node-redis client in SESSION_REDIS.
    const node = createClient({ url: redis.server.url });
    await node.connect();
    try {
      const options = fromQuartConfig({ ...config('fs032RedisClient'), SESSION_REDIS: node });
      assert.equal(options.redis, node);
      await writeOne(options, 'redis');
    } finally {
      await node.close();
    }
    // Flask-Session 0.3.2 with SESSION_REDIS None makes its own client to localhost: the default URL.
    assert.deepEqual(storeOptions(fromQuartConfig(config('fs032Redis'))), []);
  });

  it('every error names the Python key, never the option it would have become', () => {
    const redisDict = config('qs30Redis');
    const bad: [Config, string, RegExp][] = [
      [{ ...redisDict, SESSION_URI: 'http://127.0.0.1:6379' }, 'SESSION_URI', /redis:\/\/ or rediss:\/\/ URL/],
      [{ ...redisDict, SESSION_URI: 'unix:///run/redis.sock' }, 'SESSION_URI', /socket: \{ path/],
      [{ ...redisDict, SESSION_REDIS: 'Redis<ConnectionPool<UnixDomainSocketConnection<path=/run/redis.sock,db=0>>>' }, 'SESSION_REDIS', /createClient\(\{ socket: \{ path: "\/run\/redis.sock" \} \}\)/],
      [{ ...redisDict, SESSION_REDIS: { host: 'localhost', port: 6379 } }, 'SESSION_REDIS', /Python Redis client/],
      [{ ...redisDict, SESSION_TYPE: 'mongodb' }, 'SESSION_TYPE', /pass your own store/],
      [{ ...redisDict, SESSION_KEY_PREFIX: 'no spaces' }, 'SESSION_KEY_PREFIX', /at most 100 characters/],
      [{ ...redisDict, SESSION_COOKIE_NAME: 'a b' }, 'SESSION_COOKIE_NAME', /cookie name/],
      [{ ...redisDict, PERMANENT_SESSION_LIFETIME: 0 }, 'PERMANENT_SESSION_LIFETIME', /positive number of seconds/],
      [{ ...config('qs30Memcached'), SESSION_MEMCACHED_PORT: 'eleven' }, 'SESSION_MEMCACHED_PORT', /port number/],
      [{ ...config('qs30Memcached'), SESSION_MEMCACHED: '<aiomcache.client.Client object at 0x7f3a>' }, 'SESSION_MEMCACHED', /Python memcached client.*"host:port"/],
      [{ ...config('fs08Memcached'), SESSION_MEMCACHED: { __class__: 'pymemcache.client.base.Client', repr: '<pymemcache.client.base.Client object at 0x7f3a>' } }, 'SESSION_MEMCACHED', /Python memcached client \(pymemcache\.client\.base\.Client\)/],
      [{ ...config('fs032Filesystem'), SESSION_FILE_DIR: 'flask_session' }, 'SESSION_FILE_DIR', /absolute path/],
      [{ ...config('fs032Filesystem'), SESSION_FILE_DIR: null }, 'SESSION_FILE_DIR', /must be set/],
      [{ ...config('fs032Filesystem'), SESSION_FILE_THRESHOLD: 0 }, 'SESSION_FILE_THRESHOLD', /positive whole number/],
      [{ ...config('fs08Null'), SESSION_TYPE: 'redis', SESSION_ID_LENGTH: 16 }, 'SESSION_ID_LENGTH', /must be 32/],
    ];
    for (const [given, key, rule] of bad) {
      const error = refusal(given);
      assert.equal(error.option, key, error.message);
      assert.match(error.message, rule);
      assert.ok(!/option "(redis|memcached|directory|filesystem|type|keyPrefix|cookie\.name|lifetime)"/.test(error.message), error.message);
    }
  });

  it('ignored settings of other stores are listed under NODE_DEBUG=koa-qsession, by key, never with their values', async () => {
    const dict = config('qs30Redis');
    const runChild = async (nodeDebug: string | undefined) => {
      const env = { ...process.env };
      delete env.NODE_DEBUG;
      if (nodeDebug !== undefined) env.NODE_DEBUG = nodeDebug;
      const running = run(process.execPath, ['--conditions=source', '--import', 'tsx', child], { env });
      running.child.stdin?.end(JSON.stringify(dict));
      return running;
    };
    const { stdout, stderr } = await runChild('koa-qsession');
    assert.deepEqual(JSON.parse(stdout), fromQuartConfig(dict));
    assert.match(stderr, /fromQuartConfig: ignored SESSION_FILE_DIR, a setting of the filesystem store \(SESSION_TYPE is "redis"\)/);
    assert.match(stderr, /fromQuartConfig: ignored SESSION_FILE_THRESHOLD, a setting of the filesystem store/);
    assert.match(stderr, /fromQuartConfig: ignored SESSION_FILE_MODE, a setting of the filesystem store/);
    assert.ok(!stderr.includes(python.path) && !stderr.includes(redis.server.url), 'no value reaches the log');
    assert.equal((await runChild(undefined)).stderr, '');
  });

  it('every SESSION_* key these libraries build is known, and docs/python-interop-config.md lists every known key', () => {
    const docs = readFileSync(new URL('../../docs/python-interop-config.md', import.meta.url), 'utf8');
    for (const entry of Object.values(built)) {
      for (const name of Object.keys(entry.config ?? {})) if (name.startsWith('SESSION_')) assert.ok(Object.hasOwn(QUART_KEYS, name), name);
    }
    for (const name of Object.keys(QUART_KEYS)) assert.ok(docs.includes(`\`${name}\``), `${name} is missing from the docs table`);
  });
});
