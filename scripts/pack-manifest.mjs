// The package.json that goes into the tarball, made from the one in the repository.
//
//   node scripts/pack-manifest.mjs strip     (prepack)  rewrites package.json for packing
//   node scripts/pack-manifest.mjs restore   (postpack) puts the repository's package.json back
//
// Why: in the repository, the `"source"` export condition points at src/*.ts, so the specs, the
// example app and the docs run on the sources (`node --conditions=source --import tsx`) without a
// build. src/ is not in the tarball, and even if it were, Node does not run TypeScript from
// node_modules; an application or monorepo that runs with `--conditions=source` for its own
// packages would then resolve koa-qsession to a file that cannot load (ERR_MODULE_NOT_FOUND). So
// the packed manifest has no `source` condition. npm's publishConfig cannot do this (it does not
// override `exports`), hence a rewrite between prepack and postpack, as `npm pack` and
// `npm publish` both run those.
//
// The original is kept byte for byte (and with its mtime, so `build.mjs --if-stale` does not see a
// change) in BACKUP until `restore`. If a pack failed between the two, `git diff package.json`
// shows it, and `node scripts/pack-manifest.mjs restore` mends it; `strip` refuses to run twice.
import { existsSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const manifest = join(root, 'package.json');
const BACKUP = join(root, '.package.json.prepack');

/** The manifest without `source` conditions, at any depth of `exports`. */
export function packedManifest(pkg) {
  const strip = (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
    return Object.fromEntries(Object.entries(value).filter(([key]) => key !== 'source').map(([key, v]) => [key, strip(v)]));
  };
  return { ...pkg, exports: strip(pkg.exports) };
}

const command = process.argv[2];
if (command === 'strip') {
  if (existsSync(BACKUP)) {
    throw new Error(`${BACKUP} exists: an earlier pack did not finish. Run \`node scripts/pack-manifest.mjs restore\` first.`);
  }
  const text = readFileSync(manifest, 'utf8');
  const { mtime } = statSync(manifest);
  writeFileSync(BACKUP, JSON.stringify({ mtime: mtime.toISOString(), text }));
  writeFileSync(manifest, JSON.stringify(packedManifest(JSON.parse(text)), null, 2) + '\n');
} else if (command === 'restore') {
  if (!existsSync(BACKUP)) process.exit(0); // nothing stripped (e.g. `npm pack --ignore-scripts`)
  const { mtime, text } = JSON.parse(readFileSync(BACKUP, 'utf8'));
  writeFileSync(manifest, text);
  utimesSync(manifest, new Date(), new Date(mtime));
  rmSync(BACKUP);
} else {
  console.error('usage: node scripts/pack-manifest.mjs strip|restore');
  process.exit(2);
}
