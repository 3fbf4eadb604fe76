// What goes into the tarball differs from the repository in two files, rewritten between `prepack`
// and `postpack` (both `npm pack` and `npm publish` run those):
//
//   node scripts/pack-manifest.mjs strip     (prepack)  rewrites package.json and README.md for packing
//   node scripts/pack-manifest.mjs restore   (postpack) puts the repository's versions back
//
// package.json: no `"source"` export condition. In the repository it points at src/*.ts, so the
// specs, the example app and the docs run on the sources (`node --conditions=source --import tsx`)
// without a build. src/ is not in the tarball, and even if it were, Node does not run TypeScript
// from node_modules: an application or monorepo that runs with `--conditions=source` for its own
// packages would resolve koa-qsession to a file that cannot load (ERR_MODULE_NOT_FOUND). npm's
// publishConfig cannot do this (it does not override `exports`), hence the rewrite.
//
// README.md: relative links and images (docs/…, bench/…) become absolute URLs into the repository
// (`repository` in package.json, branch main), because the README is also the npm page, where a
// relative path leads nowhere and docs/ is not shipped. In the repository they stay relative, so
// they work on GitHub and in a clone, and the docs spec checks that their targets exist.
//
// The originals are kept byte for byte (with their mtimes, so `build.mjs --if-stale` sees no
// change) in BACKUP until `restore`. If a pack failed between the two, `git status` shows it, and
// `node scripts/pack-manifest.mjs restore` mends it; `strip` refuses to run twice.
import { existsSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const BACKUP = join(root, '.package.json.prepack');
const BRANCH = 'main';

/** The manifest without `source` conditions, at any depth of `exports`. */
export function packedManifest(pkg) {
  const strip = (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
    return Object.fromEntries(Object.entries(value).filter(([key]) => key !== 'source').map(([key, v]) => [key, strip(v)]));
  };
  return { ...pkg, exports: strip(pkg.exports) };
}

/** `https://github.com/owner/name` from package.json's `repository`. */
function repositoryUrl(pkg) {
  const url = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
  const match = /github\.com[/:]([^/]+\/[^/.]+?)(?:\.git)?$/.exec(url ?? '');
  if (!match) throw new Error(`package.json repository is not a GitHub URL: ${url}`);
  return `https://github.com/${match[1]}`;
}

/** README.md with every relative link or image (outside code) pointing into the repository. */
export function packedReadme(markdown, repository) {
  const raw = repository.replace('https://github.com/', 'https://raw.githubusercontent.com/');
  let fence;
  return markdown
    .split('\n')
    .map((line) => {
      const open = /^\s*(`{3,}|~{3,})/.exec(line);
      if (open) {
        if (fence === undefined) fence = open[1];
        else if (line.trim().startsWith(fence)) fence = undefined;
        return line;
      }
      if (fence !== undefined) return line;
      // Inline code is left alone: split on backticks, rewrite the even (prose) parts only.
      return line
        .split(/(`[^`]*`)/)
        .map((part, index) =>
          index % 2 === 1
            ? part
            : part.replace(/(!?)\[([^\]]*)\]\(\s*([^)\s]+)((?:\s+"[^"]*")?\s*)\)/g, (whole, bang, text, target, title) => {
                if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//') || target.startsWith('#')) return whole;
                const path = target.replace(/^\.\//, '').replace(/^\//, '');
                return `${bang}[${text}](${bang ? `${raw}/${BRANCH}/${path}` : `${repository}/blob/${BRANCH}/${path}`}${title})`;
              }),
        )
        .join('');
    })
    .join('\n');
}

const files = {
  'package.json': (text) => JSON.stringify(packedManifest(JSON.parse(text)), null, 2) + '\n',
  'README.md': (text) => packedReadme(text, repositoryUrl(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')))),
};

const command = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url) ? process.argv[2] : 'none';
if (command === 'none') {
  // imported (by a spec): nothing to do
} else if (command === 'strip') {
  if (existsSync(BACKUP)) {
    throw new Error(`${BACKUP} exists: an earlier pack did not finish. Run \`node scripts/pack-manifest.mjs restore\` first.`);
  }
  const originals = Object.fromEntries(
    Object.keys(files).map((name) => [name, { text: readFileSync(join(root, name), 'utf8'), mtime: statSync(join(root, name)).mtime.toISOString() }]),
  );
  writeFileSync(BACKUP, JSON.stringify(originals));
  // README first: its rewrite reads `repository` from the repository's package.json.
  for (const name of ['README.md', 'package.json']) writeFileSync(join(root, name), files[name](originals[name].text));
} else if (command === 'restore') {
  if (!existsSync(BACKUP)) process.exit(0); // nothing was rewritten (e.g. `npm pack --ignore-scripts`)
  for (const [name, { text, mtime }] of Object.entries(JSON.parse(readFileSync(BACKUP, 'utf8')))) {
    writeFileSync(join(root, name), text);
    utimesSync(join(root, name), new Date(), new Date(mtime));
  }
  rmSync(BACKUP);
} else {
  console.error('usage: node scripts/pack-manifest.mjs strip|restore');
  process.exit(2);
}
