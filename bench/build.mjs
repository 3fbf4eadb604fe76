// Bundles src/index.ts into bench/.build/koa-qsession.mjs (esbuild, dependencies left external),
// so the contender processes run plain JavaScript: no TypeScript loader in a measured process.
// BENCH_QSESSION_SRC=/path/to/src/index.ts bundles another checkout instead (to try a branch).
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

export const BUNDLE = fileURLToPath(new URL('./.build/koa-qsession.mjs', import.meta.url));

export async function buildBundle() {
  await build({
    entryPoints: [process.env.BENCH_QSESSION_SRC || fileURLToPath(new URL('../src/index.ts', import.meta.url))],
    outfile: BUNDLE,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  return BUNDLE;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(await buildBundle());
