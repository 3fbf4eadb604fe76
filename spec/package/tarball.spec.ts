import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../support/process.js';
import { startStandalone, type Standalone } from '../support/redis.js';

// What users get: the tarball `npm pack` makes (its prepack builds when src/ changed and drops the
// `source` export condition), installed into a scratch project that has only koa (and the types a
// TypeScript user has), from npm's cache. Then used the ways applications use it: ES module,
// CommonJS, both at once, TypeScript under every moduleResolution that reads `exports`, and
// `--conditions=source`. Every script runs on the runtime running this spec (the matrix's Node
// lines, or Bun). Last, `redis` is added to the project and the Redis store is used for real, on
// node-redis 5 and then on 6 (both in the peer range).
const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const tsc = join(root, 'node_modules/typescript/bin/tsc');

function sh(command: string, args: string[], cwd: string, env: Record<string, string> = {}): string {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed:\n${stdout}\n${stderr}`, { cause: error });
  }
}

/** The version this repo was tested with, so the scratch install is served from npm's cache. */
function installedVersion(name: string): string {
  return (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Counts to 2 through a real server: the second request carries the first one's cookie. */
const ESM = `
import Koa from 'koa';
import { qsession, session } from 'koa-qsession';
import { BunRedisStore } from 'koa-qsession/bun-redis';
if (typeof BunRedisStore !== 'function') throw new Error('no BunRedisStore export');
const app = new Koa();
const sessions = qsession(process.env.REDIS_URL ? { type: 'redis', redis: process.env.REDIS_URL } : { type: 'memory' });
app.use(sessions);
app.use((ctx) => { session.n = (session.get('n') ?? 0) + 1; ctx.body = String(session.n); });
const server = app.listen(0, '127.0.0.1', async () => {
  const url = 'http://127.0.0.1:' + server.address().port + '/';
  const first = await fetch(url);
  const cookie = first.headers.get('set-cookie').split(';')[0];
  const second = await fetch(url, { headers: { cookie } });
  console.log(await first.text(), await second.text());
  server.close();
  await sessions.close();
});
`;
const CJS = ESM.replace("import Koa from 'koa';", "const Koa = require('koa');")
  .replace("import { qsession, session } from 'koa-qsession';", "const { qsession, session } = require('koa-qsession');")
  .replace("import { BunRedisStore } from 'koa-qsession/bun-redis';", "const { BunRedisStore } = require('koa-qsession/bun-redis');");

/**
 * Both builds in one process, as when an ES module application uses a CommonJS dependency that
 * requires koa-qsession: the session is shared, and errors are `instanceof` across builds (the
 * rule in src/errors.ts). Also: a store whose driver is not installed fails at start-up, naming it.
 */
const DUAL = `
import { createRequire } from 'node:module';
import Koa from 'koa';
import * as esm from 'koa-qsession';
const cjs = createRequire(import.meta.url)('koa-qsession');
const thrown = (make) => { try { make(); } catch (error) { return error; } throw new Error('did not throw'); };
const missingRedis = thrown(() => esm.qsession({ type: 'redis' }));
const missingMemjs = thrown(() => cjs.qsession({ type: 'memcached' }));
const missingRedisCjs = thrown(() => new cjs.RedisStore('redis://127.0.0.1:1'));
const app = new Koa();
app.use(esm.qsession({ type: 'memory' }));
app.use((ctx) => { cjs.session.set('who', 'cjs'); ctx.body = esm.session.get('who'); });
const server = app.listen(0, '127.0.0.1', async () => {
  const body = await (await fetch('http://127.0.0.1:' + server.address().port + '/')).text();
  server.close();
  console.log(JSON.stringify({
    twoBuilds: esm.SessionStoreError !== cjs.SessionStoreError,
    sessionShared: body,
    cjsErrorIsEsmClass: new cjs.SessionStoreError('get', 'x') instanceof esm.SessionStoreError,
    esmErrorIsCjsBase: new esm.SessionTooLargeError(2, 1) instanceof cjs.QSessionError,
    notAnotherKind: new cjs.SessionStoreError('get', 'x') instanceof esm.SessionOptionsError,
    plainErrorIsNot: new Error('x') instanceof cjs.QSessionError,
    missingRedis: [missingRedis instanceof cjs.SessionOptionsError, missingRedis.code, missingRedis.message],
    missingMemjs: [missingMemjs instanceof esm.SessionOptionsError, missingMemjs.message],
    missingRedisCjs: [missingRedisCjs instanceof esm.SessionOptionsError, missingRedisCjs.message],
  }));
});
`;

/**
 * An error the library throws (a bad `redis` URL, refused in src/stores/redis/store.ts), its stack
 * as printed: with --enable-source-maps, the frames inside the package name the TypeScript sources.
 */
const THROWS = (kind: 'esm' | 'cjs') => `
${kind === 'esm' ? "import { RedisStore } from 'koa-qsession';" : "const { RedisStore } = require('koa-qsession');"}
try { new RedisStore('not a url'); } catch (error) { console.log(error.stack); }
`;

/** A TypeScript user's app: ES module or CommonJS syntax, `SessionData` augmented. */
const TS = (kind: 'esm' | 'cjs') => `
${kind === 'esm' ? "import Koa from 'koa';\nimport { qsession, session, RedisStore, SessionOptionsError, type Session } from 'koa-qsession';\nimport { BunRedisStore } from 'koa-qsession/bun-redis';" : "import Koa = require('koa');\nimport qs = require('koa-qsession');\nimport bun = require('koa-qsession/bun-redis');\nconst { qsession, session, RedisStore, SessionOptionsError } = qs;\nconst { BunRedisStore } = bun;\ntype Session = qs.Session;"}

declare module 'koa-qsession' {
  interface SessionData {
    userId: number;
  }
}

const app = new Koa();
app.use(qsession({ type: 'memory', cookie: { name: 'sid' } }));
app.use((ctx) => {
  const id: number | undefined = session.userId;
  const same: Session = ctx.session;
  ctx.body = String(id ?? same.get('userId', 0));
  // @ts-expect-error userId is a number, by the augmentation above
  session.userId = 'alice';
});
const stores = [new RedisStore('redis://127.0.0.1:6380'), new BunRedisStore({ url: 'redis://127.0.0.1:6380' })];
const error: unknown = new Error('x');
if (error instanceof SessionOptionsError) console.log(error.option, stores.length);
export {};
`;

describe('the packed package', () => {
  let scratch: ReturnType<typeof tempDir>;
  let packedManifest: Record<string, unknown>;
  let files: string[];
  let packedReadme: string;
  let before_: { manifest: string; readme: string };
  let after_: { manifest: string; readme: string };

  before(() => {
    scratch = tempDir('package');
    const repoFiles = () => ({ manifest: readFileSync(join(root, 'package.json'), 'utf8'), readme: readFileSync(join(root, 'README.md'), 'utf8') });
    before_ = repoFiles();
    // With its lifecycle scripts: prepack builds (if stale) and rewrites package.json, postpack restores it.
    const [packed] = JSON.parse(sh(npm, ['pack', '--json', '--pack-destination', scratch.path], root)) as Array<{ filename: string; files: Array<{ path: string }> }>;
    after_ = repoFiles();
    files = packed.files.map((f) => f.path);
    const tarball = join(scratch.path, packed.filename);
    packedManifest = JSON.parse(sh('tar', ['-xzOf', tarball, 'package/package.json'], scratch.path)) as Record<string, unknown>;
    packedReadme = sh('tar', ['-xzOf', tarball, 'package/README.md'], scratch.path);
    writeFileSync(join(scratch.path, 'package.json'), JSON.stringify({ name: 'scratch', private: true }));
    sh(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error',
      tarball, `koa@${installedVersion('koa')}`, `@types/koa@${installedVersion('@types/koa')}`, `@types/node@${installedVersion('@types/node')}`], scratch.path);
  });
  after(() => scratch?.remove());

  it('holds only what users need: dist/, the sources its maps name (src/), the node10 stub for bun-redis, README, CHANGELOG, LICENSE', () => {
    const top = new Set(files.map((file) => file.split('/')[0]));
    assert.deepEqual([...top].sort(), ['CHANGELOG.md', 'LICENSE', 'README.md', 'bun-redis', 'dist', 'package.json', 'src']);
    assert.deepEqual(files.filter((file) => file.startsWith('src/') && !file.endsWith('.ts')), [], 'src/ holds TypeScript sources only');
    for (const entry of ['src/index.ts', 'dist/esm/index.js', 'dist/esm/index.d.ts', 'dist/cjs/index.js', 'dist/cjs/index.d.ts', 'dist/esm/stores/redis/bun.js', 'dist/cjs/stores/redis/bun.d.ts', 'bun-redis/package.json']) {
      assert.ok(files.includes(entry), `${entry} is in the package`);
    }
  });

  it('its manifest: no `source` condition (src/ is not shipped), drivers as optional peers, no dependencies', () => {
    assert.doesNotMatch(JSON.stringify(packedManifest.exports), /source|src\//);
    assert.equal(packedManifest.dependencies, undefined);
    const peers = packedManifest.peerDependencies as Record<string, string>;
    const meta = packedManifest.peerDependenciesMeta as Record<string, { optional?: boolean }>;
    for (const driver of ['redis', 'memjs']) {
      assert.ok(peers[driver], `${driver} is a peer dependency`);
      assert.equal(meta[driver]?.optional, true, `${driver} is optional`);
    }
    assert.equal(after_.manifest, before_.manifest, "the repository's package.json is restored after packing");
    assert.ok(!existsSync(join(root, '.package.json.prepack')));
  });

  it('its README works on the npm page: links and images point into the repository, not at unshipped paths', () => {
    const prose = packedReadme.split(/^```.*$/m).filter((_, index) => index % 2 === 0).join('\n').replace(/`[^`]*`/g, '');
    const targets = [...prose.matchAll(/\]\(\s*([^)\s]+)/g)].map((match) => match[1]!);
    assert.ok(targets.length > 0);
    const relative = targets.filter((target) => !/^(https?:|mailto:|#)/.test(target));
    assert.deepEqual(relative, [], 'no relative link or image is left');
    for (const target of targets.filter((t) => t.startsWith('http'))) {
      if (/^https:\/\/(github\.com|raw\.githubusercontent\.com)\/koa-qsession\/koa-qsession\//.test(target)) {
        assert.match(target, /^https:\/\/(github\.com\/koa-qsession\/koa-qsession\/blob\/main|raw\.githubusercontent\.com\/koa-qsession\/koa-qsession\/main)\//, target);
      }
    }
    assert.notEqual(after_.readme, packedReadme, 'the repository keeps its relative links');
    assert.equal(after_.readme, before_.readme, "the repository's README is restored after packing");
  });

  it('every source a shipped source map names is in the package (or inlined in the map)', () => {
    const pkg = join(scratch.path, 'node_modules/koa-qsession');
    const maps = files.filter((file) => file.endsWith('.map'));
    assert.ok(maps.some((file) => file.startsWith('dist/esm/')) && maps.some((file) => file.startsWith('dist/cjs/')), 'both builds ship maps');
    const absent: string[] = [];
    for (const file of maps) {
      const map = JSON.parse(readFileSync(join(pkg, file), 'utf8')) as { sourceRoot?: string; sources: string[]; sourcesContent?: Array<string | null> };
      map.sources.forEach((source, index) => {
        const path = resolve(dirname(join(pkg, file)), map.sourceRoot ?? '', source);
        const shipped = path.startsWith(pkg + sep) && files.includes(relative(pkg, path).split(sep).join('/'));
        if (!shipped && typeof map.sourcesContent?.[index] !== 'string') absent.push(`${file}: ${source}`);
      });
    }
    assert.deepEqual(absent, []);
  });

  // A Node flag; Bun does not read the source maps of packages.
  it('stack traces with --enable-source-maps point at files the package ships, at the throwing line', { skip: 'bun' in process.versions }, () => {
    for (const [kind, script] of [['esm', 'throws.mjs'], ['cjs', 'throws.cjs']] as const) {
      writeFileSync(join(scratch.path, script), THROWS(kind));
      const stack = sh(process.execPath, ['--enable-source-maps', script], scratch.path);
      const frames = [...stack.matchAll(/(\/[^\s()]*node_modules\/koa-qsession\/[^\s():]+):(\d+):\d+/g)].map((m) => ({ path: m[1]!, line: Number(m[2]) }));
      assert.ok(frames.length > 0, `${kind}: frames inside the package\n${stack}`);
      for (const { path } of frames) assert.ok(existsSync(path), `${kind}: ${path} exists\n${stack}`);
      const top = frames[0]!;
      assert.match(top.path, /node_modules\/koa-qsession\/src\/stores\/redis\/store\.ts$/, `${kind}: the TypeScript source\n${stack}`);
      assert.match(readFileSync(top.path, 'utf8').split('\n')[top.line - 1]!, /throw new SessionOptionsError/, `${kind}: line ${top.line} is the throw`);
    }
  });

  it('installs next to koa without redis or memjs', () => {
    for (const driver of ['redis', 'memjs', '@redis/client']) {
      assert.equal(existsSync(join(scratch.path, 'node_modules', driver)), false, `${driver} is not installed`);
    }
    assert.ok(existsSync(join(scratch.path, 'node_modules/koa-qsession/dist/esm/index.js')));
  });

  it('works from an ES module (memory store, over HTTP)', () => {
    writeFileSync(join(scratch.path, 'esm.mjs'), ESM);
    assert.equal(sh(process.execPath, ['esm.mjs'], scratch.path).trim(), '1 2');
  });

  it('works from CommonJS', () => {
    writeFileSync(join(scratch.path, 'cjs.cjs'), CJS);
    assert.equal(sh(process.execPath, ['cjs.cjs'], scratch.path).trim(), '1 2');
  });

  it('works in an application run with --conditions=source (it resolves to dist/, not to unshipped src/)', () => {
    assert.equal(sh(process.execPath, ['--conditions=source', 'esm.mjs'], scratch.path).trim(), '1 2');
    assert.equal(sh(process.execPath, ['--conditions=source', 'cjs.cjs'], scratch.path).trim(), '1 2');
  });

  it('both builds in one process: one session, errors instanceof across builds; a missing driver fails at start-up naming the package', () => {
    writeFileSync(join(scratch.path, 'dual.mjs'), DUAL);
    const result = JSON.parse(sh(process.execPath, ['dual.mjs'], scratch.path)) as Record<string, unknown>;
    assert.equal(result.twoBuilds, true, 'the ESM and CommonJS builds are both loaded');
    assert.equal(result.sessionShared, 'cjs', "the CommonJS build's `session` is the ES module middleware's session");
    assert.equal(result.cjsErrorIsEsmClass, true);
    assert.equal(result.esmErrorIsCjsBase, true);
    assert.equal(result.notAnotherKind, false);
    assert.equal(result.plainErrorIsNot, false);
    const [isOptionsError, code, message] = result.missingRedis as [boolean, string, string];
    assert.equal(isOptionsError, true);
    assert.equal(code, 'ERR_QSESSION_OPTION');
    assert.match(message, /option "redis" needs the "redis" package, which is not installed: run `npm install redis`/);
    assert.deepEqual(result.missingMemjs, [true, 'koa-qsession: option "memcached" needs the "memjs" package, which is not installed: run `npm install memjs`']);
    assert.match((result.missingRedisCjs as [boolean, string])[1], /npm install redis/);
    assert.equal((result.missingRedisCjs as [boolean, string])[0], true);
  });

  // skipLibCheck is off: the shipped .d.ts files must compile as they are, without `redis` installed.
  for (const [resolution, module, sources] of [
    ['node16', 'node16', ['app.mts', 'app.cts']],
    ['nodenext', 'nodenext', ['app.mts', 'app.cts']],
    ['bundler', 'preserve', ['app.ts']],
  ] as const) {
    it(`type-checks from TypeScript, moduleResolution ${resolution} (${sources.join(', ')}), SessionData augmented`, () => {
      writeFileSync(join(scratch.path, 'app.mts'), TS('esm'));
      writeFileSync(join(scratch.path, 'app.ts'), TS('esm'));
      writeFileSync(join(scratch.path, 'app.cts'), TS('cjs'));
      const config = `tsconfig.${resolution}.json`;
      writeFileSync(join(scratch.path, config), JSON.stringify({
        compilerOptions: { target: 'ES2022', module, moduleResolution: resolution, strict: true, noEmit: true, skipLibCheck: false, esModuleInterop: true, types: ['node'] },
        files: sources,
      }));
      sh(process.execPath, [tsc, '-p', config], scratch.path);
    });
  }

  // node-redis 5, then 6 (the version this repo tests as `redis-v6`): npm refuses a peer outside the
  // range (ERESOLVE), so the install itself checks the range, then the store runs on that major.
  for (const [major, version] of [[5, () => installedVersion('redis')], [6, () => installedVersion('redis-v6')]] as const) {
    describe(`with redis@${major} added to the application`, () => {
      let redis: Standalone;
      before(async () => {
        sh(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error', `redis@${version()}`], scratch.path);
        redis = await startStandalone();
      });
      after(async () => redis?.cleanup());

      it('the Redis store works, from ESM and from CommonJS', async () => {
        const installed = JSON.parse(readFileSync(join(scratch.path, 'node_modules/redis/package.json'), 'utf8')) as { version: string };
        assert.equal(installed.version.split('.')[0], String(major));
        for (const script of ['esm.mjs', 'cjs.cjs']) {
          assert.equal(sh(process.execPath, [script], scratch.path, { REDIS_URL: redis.server.url }).trim(), '1 2', script);
        }
        assert.match(await redis.server.cli('--scan', '--pattern', 'session:*'), /^session:/m, 'the sessions are in Redis');
      });
    });
  }
});
