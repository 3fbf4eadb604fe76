// Runs every spec/**/*.spec.ts with Node's test runner (TypeScript through tsx, the package's
// `source` export condition so `import 'koa-qsession'` means src/). Arguments narrow the files:
// `node scripts/test.mjs redis` runs the specs whose path contains "redis".
//
// QSESSION_TEST_NODE=<binary> runs them on another runtime: another Node, or Bun (a binary named
// `bun*`), whose own runner (`bun test`) runs node:test files as they are and TypeScript natively.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';

function specFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'support' || entry.name === 'artifacts' ? [] : specFiles(path);
    return entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

const filters = process.argv.slice(2);
const files = specFiles('spec').filter((file) => filters.length === 0 || filters.some((f) => file.includes(f))).sort();
if (files.length === 0) {
  console.error('no spec files matched', filters);
  process.exit(1);
}
const runtime = process.env.QSESSION_TEST_NODE ?? process.execPath;
const args = basename(runtime).startsWith('bun')
  ? // `./` makes bun take them as paths, not name filters; its default 5 s per-test timeout is too
    // short for specs that start servers, and node:test has none.
    ['--conditions=source', 'test', '--timeout=120000', ...files.map((file) => `./${file}`)]
  : ['--conditions=source', '--import', 'tsx', '--test', '--test-concurrency=1', ...files];
const result = spawnSync(runtime, args, { stdio: 'inherit', env: { ...process.env, NODE_ENV: process.env.NODE_ENV ?? 'test' } });
process.exit(result.status ?? 1);
