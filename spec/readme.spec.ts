// Every code block in README.md is checked here, one test per block, named by its line:
// - ts / js: an excerpt of example-app/ (verbatim, ignoring indentation; `<!-- from FILE -->` above
//   the block pins the file), or else it must type-check against the package (src/, through the
//   `source` export condition) as a module of its own; `<!-- prelude: ... -->` adds hidden setup.
// - sh / bash: npm scripts exist in package.json, files exist, other commands are on PATH.
// - python: parses (/usr/bin/python3 ast.parse). json: parses.
// - text: a stored session (JSON) must come back byte for byte through the tagged-JSON serializer;
//   any other text must appear verbatim in spec/ or example-app/ (output shown is output tested).
// Anything else fails: add a checker.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';
import { taggedJsonSerializer } from 'koa-qsession';
import { codeBlocks, containsVerbatim, type CodeBlock } from './readme/blocks.js';
import { KNOWN_COOKIE_OPTIONS, KNOWN_OPTIONS } from '../src/config/resolve.js';
import { shellProblems } from './readme/shell.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const blocks = codeBlocks(README);
const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
const TMP = join(ROOT, '.spec-tmp', 'readme');

const CODE = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs', 'cjs']);
const SHELL = new Set(['sh', 'bash', 'shell']);

/** Source files under `dir`, by path relative to the repo. */
function sources(dir: string, pattern: RegExp): Map<string, string> {
  return new Map<string, string>(
    readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
      .filter((file) => pattern.test(file))
      .map((file) => [`${dir}/${file}`, readFileSync(join(ROOT, dir, file), 'utf8')] as const),
  );
}
const exampleSources = sources('example-app', /\.(ts|js|mjs)$/);

function checkText(name: string, block: CodeBlock): void {
  let parsed = false;
  try {
    JSON.parse(block.code);
    parsed = true;
  } catch {
    // not JSON: checked below as text
  }
  if (parsed) {
    const again = taggedJsonSerializer.dumps(taggedJsonSerializer.loads(block.code));
    assert.equal(again, block.code, `${name}: this stored session does not come back byte for byte through the tagged-JSON serializer`);
    return;
  }
  const tested = new Map([...exampleSources, ...sources('spec', /\.(ts|py|txt)$/)]);
  const found = [...tested.values()].some((source) => containsVerbatim(source, block.code));
  assert.ok(found, `${name}: text that is neither a stored session (JSON) nor found verbatim in spec/ or example-app/`);
}

function excerptOf(block: CodeBlock): string | undefined {
  for (const [file, source] of exampleSources) if (containsVerbatim(source, block.code)) return file;
  return undefined;
}

/** File name of a block's compile unit: .cjs for require(), .js for js, else .ts. */
function unitName(block: CodeBlock): string {
  const js = block.lang !== 'ts' && block.lang !== 'typescript';
  return `L${block.line}.${js ? (/\brequire\(/.test(block.code) ? 'cjs' : 'js') : 'ts'}`;
}

/** The prelude's line count: compiler line numbers minus this are lines of the block. */
const preludeOf = (block: CodeBlock) => (block.prelude ? block.prelude + '\n' : '');

/** tsc errors per compile unit, from one compiler run over every block that needs compiling. */
const compileErrors = new Map<string, string[]>();

before(() => {
  const toCompile = blocks.filter((b) => CODE.has(b.lang) && !b.from && !excerptOf(b));
  rmSync(TMP, { recursive: true, force: true });
  mkdirSync(TMP, { recursive: true });
  if (toCompile.length === 0) return;
  for (const block of toCompile) {
    const isModule = /^\s*(import|export)\s/m.test(block.code) || /\brequire\(/.test(block.code);
    // A block without import/export would be a global script; as a module its names stay its own.
    writeFileSync(join(TMP, unitName(block)), preludeOf(block) + block.code + (isModule ? '\n' : '\nexport {};\n'));
  }
  writeFileSync(join(TMP, 'tsconfig.json'), JSON.stringify({
    extends: '../../tsconfig.json',
    compilerOptions: { allowJs: true, checkJs: true, noEmit: true },
    include: ['./*.ts', './*.js', './*.cjs'],
  }));
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(TMP, 'tsconfig.json'), '--pretty', 'false'], {
    cwd: ROOT, encoding: 'utf8',
  });
  for (const line of tsc.stdout.split('\n')) {
    const match = /^(.*?)\((\d+),(\d+)\): (error .*)$/.exec(line);
    if (!match) continue;
    const file = relative(TMP, join(ROOT, match[1]!));
    const block = toCompile.find((b) => unitName(b) === file);
    const offset = block ? preludeOf(block).split('\n').length - 1 : 0;
    const readmeLine = block ? block.line + Number(match[2]) - offset : Number(match[2]);
    const errors = compileErrors.get(file) ?? [];
    errors.push(`README.md:${readmeLine}:${match[3]} ${match[4]}`);
    compileErrors.set(file, errors);
  }
  if (tsc.status !== 0 && compileErrors.size === 0) throw new Error(`tsc failed without file errors:\n${tsc.stdout}${tsc.stderr}`);
});

describe('README.md code blocks', () => {
  it('has code blocks to check', () => assert.ok(blocks.length > 0));

  for (const block of blocks) {
    const name = `README.md line ${block.line} (\`\`\`${block.lang || 'no language'})`;
    it(name, () => {
      if (CODE.has(block.lang)) {
        if (block.from) {
          const source = exampleSources.get(block.from);
          assert.ok(source !== undefined, `${name}: <!-- from ${block.from} --> names no file of example-app/`);
          assert.ok(containsVerbatim(source, block.code), `${name} is no longer an excerpt of ${block.from}: copy the current code into the README`);
          return;
        }
        if (excerptOf(block)) return;
        const errors = compileErrors.get(unitName(block)) ?? [];
        assert.deepEqual(errors, [], `${name} is not an excerpt of example-app/ and does not type-check:\n${errors.join('\n')}`);
      } else if (SHELL.has(block.lang)) {
        const problems = shellProblems(block.code, ROOT, scripts);
        assert.deepEqual(problems, [], `${name}: ${problems.join('; ')}`);
      } else if (block.lang === 'python' || block.lang === 'py') {
        try {
          execFileSync('/usr/bin/python3', ['-c', 'import ast,sys; ast.parse(sys.stdin.read())'], { input: block.code, stdio: ['pipe', 'ignore', 'pipe'] });
        } catch (error) {
          assert.fail(`${name} is not valid Python: ${String((error as { stderr?: Buffer }).stderr ?? error)}`);
        }
      } else if (block.lang === 'text') {
        checkText(name, block);
      } else if (block.lang === 'json') {
        assert.doesNotThrow(() => JSON.parse(block.code), `${name} is not valid JSON`);
      } else {
        assert.fail(`${name}: no check for \`\`\`${block.lang || '(no language)'} blocks; give the block a language or add a checker in spec/readme.spec.ts`);
      }
    });
  }
});

/** The names in a `new Set([...])` literal of src/config/options.ts: the options qsession() accepts. */
/** The option names qsession() accepts, from the resolver's own lists (typed against QSessionOptions). */
function knownOptions(constant: 'KNOWN_OPTIONS' | 'KNOWN_COOKIE_OPTIONS'): readonly string[] {
  return constant === 'KNOWN_OPTIONS' ? KNOWN_OPTIONS : KNOWN_COOKIE_OPTIONS;
}

describe('README.md options table', () => {
  const section = README.slice(README.indexOf('\n## Options\n'), README.indexOf('\n## ', README.indexOf('\n## Options\n') + 1));
  const rows = new Set([...section.matchAll(/^\| `([\w.]+)(?:\(.*?\))?`/gm)].map((m) => m[1]!));

  it('lists every option qsession() accepts', () => {
    const missing = knownOptions('KNOWN_OPTIONS').filter((name) => ![...rows].some((row) => row === name || row.startsWith(`${name}.`)));
    assert.deepEqual(missing, [], `options missing from the table under "## Options": ${missing.join(', ')}`);
  });

  it('lists every cookie option', () => {
    const missing = knownOptions('KNOWN_COOKIE_OPTIONS').filter((name) => !rows.has(`cookie.${name}`));
    assert.deepEqual(missing, [], `cookie options missing from the table under "## Options": ${missing.map((n) => `cookie.${n}`).join(', ')}`);
  });
});
