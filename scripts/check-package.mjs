// `npm run check:package`: packs the package as `npm publish` would (prepack builds if stale and
// drops the `source` export condition, see pack-manifest.mjs) and runs the ecosystem's own checks
// on that tarball:
//   publint                     the manifest, `exports` and files (--strict: warnings fail too)
//   @arethetypeswrong/cli       types resolve, in the right module format, for TypeScript's node10,
//                               node16 (from CJS and ESM) and bundler resolution
// Both must be clean; nothing is ignored.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const dir = mkdtempSync(join(tmpdir(), 'koa-qsession-pack-'));
try {
  const [{ filename }] = JSON.parse(execFileSync(npm, ['pack', '--json', '--pack-destination', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
  const tarball = join(dir, filename);
  const bin = (name) => join('node_modules', '.bin', name);
  execFileSync(bin('publint'), ['run', '--strict', tarball], { stdio: 'inherit' });
  execFileSync(bin('attw'), ['--no-emoji', '--no-color', tarball], { stdio: 'inherit' });
  console.log('check:package: publint and attw are clean');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
