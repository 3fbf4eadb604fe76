import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from './support/process.js';

// What users get: the packed tarball, installed into a scratch project next to koa, imported from
// ESM, from CommonJS and from TypeScript. Slow-ish (a build and an npm install), so it builds only
// when src/ is newer than dist/ and installs from npm's cache when it can.
const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const sh = (command: string, args: string[], cwd: string) => execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function newestMtime(dir: string): number {
  return Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs;
  }));
}

function buildIfStale(): void {
  let built = 0;
  try {
    built = statSync(join(root, 'dist/cjs/package.json')).mtimeMs;
  } catch {
    // not built yet
  }
  const inputs = Math.max(newestMtime(join(root, 'src')), ...['package.json', 'tsconfig.json', 'tsconfig.build.json', 'tsconfig.build-cjs.json'].map((f) => statSync(join(root, f)).mtimeMs));
  if (built < inputs) sh(process.execPath, ['scripts/build.mjs'], root);
}

/** The versions this repo was tested with, so the scratch install is served from npm's cache. */
function installedVersion(name: string): string {
  return (JSON.parse(sh(process.execPath, ['-p', `JSON.stringify(require('${name}/package.json').version)`], root)) as string);
}

const ESM = `
import Koa from 'koa';
import { qsession, session, MemoryStore } from 'koa-qsession';
import { BunRedisStore } from 'koa-qsession/bun-redis';
if (typeof BunRedisStore !== 'function') throw new Error('no BunRedisStore export');
const app = new Koa();
app.use(qsession({ store: new MemoryStore() }));
app.use((ctx) => { session.n = (session.get('n') ?? 0) + 1; ctx.body = String(session.n); });
const server = app.listen(0, '127.0.0.1', async () => {
  const url = 'http://127.0.0.1:' + server.address().port + '/';
  const first = await fetch(url);
  const cookie = first.headers.get('set-cookie').split(';')[0];
  const second = await fetch(url, { headers: { cookie } });
  console.log(await first.text(), await second.text());
  server.close();
});
`;
const CJS = ESM.replace(/^import Koa from 'koa';$/m, "const Koa = require('koa');")
  .replace(/^import \{ qsession, session, MemoryStore \} from 'koa-qsession';$/m, "const { qsession, session, MemoryStore } = require('koa-qsession');")
  .replace(/^import \{ BunRedisStore \} from 'koa-qsession\/bun-redis';$/m, "const { BunRedisStore } = require('koa-qsession/bun-redis');");

const TS = (kind: 'esm' | 'cjs') => `
${kind === 'esm' ? "import Koa from 'koa';\nimport { qsession, session, type Session } from 'koa-qsession';" : "import Koa = require('koa');\nimport qs = require('koa-qsession');\nconst { qsession, session } = qs;\ntype Session = qs.Session;"}

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
export {};
`;

describe('the packed package', () => {
  let scratch: ReturnType<typeof tempDir>;
  let files: string[];

  before(async () => {
    buildIfStale();
    scratch = tempDir('package');
    const [packed] = JSON.parse(sh(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch.path], root)) as Array<{ filename: string; files: Array<{ path: string }> }>;
    files = packed.files.map((f) => f.path);
    writeFileSync(join(scratch.path, 'package.json'), JSON.stringify({ name: 'scratch', private: true }));
    sh(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error',
      join(scratch.path, packed.filename), `koa@${installedVersion('koa')}`, `@types/koa@${installedVersion('@types/koa')}`, `@types/node@${installedVersion('@types/node')}`], scratch.path);
  });
  after(() => scratch?.remove());

  it('holds only what users need: dist/, README, CHANGELOG, LICENSE', () => {
    const top = new Set(files.map((file) => file.split('/')[0]));
    assert.deepEqual([...top].sort(), ['CHANGELOG.md', 'LICENSE', 'README.md', 'dist', 'package.json']);
    for (const entry of ['dist/esm/index.js', 'dist/esm/index.d.ts', 'dist/cjs/index.js', 'dist/cjs/index.d.ts', 'dist/esm/stores/redis/bun.js', 'dist/cjs/stores/redis/bun.d.ts']) {
      assert.ok(files.includes(entry), `${entry} is in the package`);
    }
  });

  it('works from an ES module', () => {
    writeFileSync(join(scratch.path, 'esm.mjs'), ESM);
    assert.equal(sh(process.execPath, ['esm.mjs'], scratch.path).trim(), '1 2');
  });

  it('works from CommonJS', () => {
    writeFileSync(join(scratch.path, 'cjs.cjs'), CJS);
    assert.equal(sh(process.execPath, ['cjs.cjs'], scratch.path).trim(), '1 2');
  });

  it('type-checks from TypeScript, ESM and CommonJS, with SessionData augmented', () => {
    writeFileSync(join(scratch.path, 'app.mts'), TS('esm'));
    writeFileSync(join(scratch.path, 'app.cts'), TS('cjs'));
    writeFileSync(join(scratch.path, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: ['node'] },
      files: ['app.mts', 'app.cts'],
    }));
    // skipLibCheck is off: the shipped .d.ts files must compile as they are.
    try {
      sh(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], scratch.path);
    } catch (error) {
      assert.fail(`tsc failed:\n${(error as { stdout?: string }).stdout ?? String(error)}`);
    }
  });
});
