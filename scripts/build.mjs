// Builds dist/esm (ES modules) and dist/cjs (CommonJS), each with its own type declarations.
//
//   node scripts/build.mjs              always
//   node scripts/build.mjs --if-stale   only when an input (src/, the tsconfigs, package.json, this
//                                       script; files or folders, so a deleted file counts) is newer
//                                       than the last build: what `npm pack` runs (prepack), so the
//                                       package spec does not rebuild for every pack.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';

const DONE = 'dist/cjs/package.json'; // written last

function newestMtime(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

if (process.argv.includes('--if-stale') && existsSync(DONE)) {
  const inputs = ['src', 'package.json', 'tsconfig.json', 'tsconfig.build.json', 'tsconfig.build-cjs.json', 'scripts/build.mjs'];
  if (statSync(DONE).mtimeMs > Math.max(...inputs.map(newestMtime))) process.exit(0);
}

rmSync('dist', { recursive: true, force: true });
const tsc = ['node_modules/typescript/bin/tsc', '-p'];
execFileSync(process.execPath, [...tsc, 'tsconfig.build.json'], { stdio: 'inherit' });
execFileSync(process.execPath, [...tsc, 'tsconfig.build-cjs.json'], { stdio: 'inherit' });
writeFileSync('dist/esm/package.json', JSON.stringify({ type: 'module' }) + '\n');

// CommonJS has no `import.meta` (a syntax error there). The one place src/ needs the module's own
// location (src/stores/load-driver.ts, for createRequire) gets CommonJS's equivalent, __filename,
// which createRequire takes as well. tsc leaves the expression as it is, so it is swapped here.
const IMPORT_META_URL = 'import.meta.url';
for (const entry of readdirSync('dist/cjs', { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.js')) continue;
  const path = join(entry.parentPath, entry.name);
  const code = readFileSync(path, 'utf8');
  if (code.includes(IMPORT_META_URL)) writeFileSync(path, code.replaceAll(IMPORT_META_URL, '__filename'));
  // Any other use would be a syntax error when the file loads: fail the build instead (comments aside).
  const code_ = code.replaceAll(IMPORT_META_URL, '').split('\n').filter((line) => !/^\s*(\/\/|\/?\*)/.test(line));
  if (code_.some((line) => /\bimport\.meta\b/.test(line))) throw new Error(`${path}: import.meta other than import.meta.url has no CommonJS equivalent here`);
}

// Source maps name the TypeScript sources as `../…/src/*.ts` relative to dist/, and src/ ships beside
// dist/ ("files" in package.json), so a stack trace under --enable-source-maps (or a debugger) points
// at a file that exists in node_modules/koa-qsession/src/. Shipping src/ once replaces inlining it into
// every map of both builds (tsconfig.build.json has no inlineSources). A map naming anything outside
// src/ would point at nothing once installed: fail the build.
for (const entry of readdirSync('dist', { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.js.map')) continue;
  const map = JSON.parse(readFileSync(join(entry.parentPath, entry.name), 'utf8'));
  for (const source of map.sources) {
    const path = relative('.', resolve(entry.parentPath, map.sourceRoot ?? '', source));
    if (!path.startsWith(`src${sep}`) || !existsSync(path)) throw new Error(`${join(entry.parentPath, entry.name)} names ${source}, which is not a file under src/`);
  }
}

writeFileSync(DONE, JSON.stringify({ type: 'commonjs' }) + '\n');
