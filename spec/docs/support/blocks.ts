/** One fenced code block of a Markdown file. */
export interface CodeBlock {
  /** The block's language tag, lower-cased ('' when none). */
  readonly lang: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly code: string;
  /**
   * Directives from HTML comments right above the fence:
   * `<!-- from example-app/app.ts -->` (the block is an excerpt of that file) and
   * `<!-- prelude: import Koa from 'koa'; const app = new Koa(); -->` (code the compile check
   * puts before the block, for fragments that use names the README does not show).
   */
  readonly from?: string;
  readonly prelude?: string;
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)/;

/** Every fenced block of `markdown`, with its line number and the directives above it. */
export function codeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const [, , fence = '```', lang = ''] = open;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i]!.trim().startsWith(fence); i++) body.push(lines[i]!);
    blocks.push({ lang: lang.toLowerCase(), line: start + 1, code: body.join('\n'), ...directivesAbove(lines, start) });
  }
  return blocks;
}

/** Reads the HTML comments directly above line `index` (blank lines between are allowed). */
function directivesAbove(lines: string[], index: number): { from?: string; prelude?: string } {
  const found: { from?: string; prelude?: string } = {};
  let i = index - 1;
  while (i >= 0 && lines[i]!.trim() === '') i--;
  while (i >= 0 && lines[i]!.trim().endsWith('-->')) {
    let start = i;
    while (start >= 0 && !lines[start]!.includes('<!--')) start--;
    if (start < 0) break;
    const comment = lines.slice(start, i + 1).join('\n').replace(/^\s*<!--/, '').replace(/-->\s*$/, '').trim();
    const from = /^from\s+(\S+)$/.exec(comment);
    const prelude = /^prelude:\s*([\s\S]*)$/.exec(comment);
    if (from) found.from = from[1];
    if (prelude) found.prelude = prelude[1];
    i = start - 1;
    while (i >= 0 && lines[i]!.trim() === '') i--;
  }
  return found;
}

/** Lines without indentation or trailing space, blank lines dropped: what "verbatim" compares. */
export function normalizedLines(code: string): string[] {
  return code.split('\n').map((l) => l.trim()).filter((l) => l !== '');
}

/** True when `block`'s lines appear, in order and contiguous, among `source`'s lines. */
export function containsVerbatim(source: string, block: string): boolean {
  const haystack = normalizedLines(source);
  const needle = normalizedLines(block);
  if (needle.length === 0) return false;
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}
