// Builds dist/esm (ES modules) and dist/cjs (CommonJS), each with its own type declarations.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
const tsc = ['node_modules/typescript/bin/tsc', '-p'];
execFileSync(process.execPath, [...tsc, 'tsconfig.build.json'], { stdio: 'inherit' });
execFileSync(process.execPath, [...tsc, 'tsconfig.build-cjs.json'], { stdio: 'inherit' });
writeFileSync('dist/cjs/package.json', JSON.stringify({ type: 'commonjs' }) + '\n');
writeFileSync('dist/esm/package.json', JSON.stringify({ type: 'module' }) + '\n');
