import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/** One Markdown link or image whose target is a path in the repository (not a URL). */
export interface RelativeLink {
  /** 1-based line of the link. */
  readonly line: number;
  /** The target as written, e.g. `docs/stores.md#redis` or `#options`. */
  readonly target: string;
}

/** The lines of `markdown` outside fenced code blocks; `blankCode` blanks out inline code. */
function proseLines(markdown: string, blankCode: boolean): Array<{ line: number; text: string }> {
  const out: Array<{ line: number; text: string }> = [];
  let fence: string | undefined;
  markdown.split('\n').forEach((text, index) => {
    const open = /^\s*(`{3,}|~{3,})/.exec(text);
    if (open) {
      if (fence === undefined) fence = open[1]!;
      else if (text.trim().startsWith(fence)) fence = undefined;
      return;
    }
    if (fence === undefined) out.push({ line: index + 1, text: blankCode ? text.replace(/`[^`]*`/g, (code) => ' '.repeat(code.length)) : text });
  });
  return out;
}

/** Every `[text](target)` / `![alt](target)` whose target is not a URL (no scheme, not `//host`). */
export function relativeLinks(markdown: string): RelativeLink[] {
  const links: RelativeLink[] = [];
  for (const { line, text } of proseLines(markdown, true)) {
    for (const match of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = match[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue;
      links.push({ line, target });
    }
  }
  return links;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
export function slug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link in a heading: its text
    .replace(/<[^>]+>/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a Markdown file's ATX headings, with GitHub's `-1`, `-2` suffixes for repeats. */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const found = new Set<string>();
  for (const { text } of proseLines(markdown, false)) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(text);
    if (!heading) continue;
    const base = slug(heading[1]!);
    const count = seen.get(base) ?? 0;
    found.add(count === 0 ? base : `${base}-${count}`);
    seen.set(base, count + 1);
  }
  return found;
}

/**
 * Problems with the relative links of `file` (a path under `root`): a target that does not exist,
 * or an `#anchor` that is no heading of the Markdown file it points into.
 */
export function linkProblems(root: string, file: string): string[] {
  const markdown = readFileSync(join(root, file), 'utf8');
  const problems: string[] = [];
  for (const { line, target } of relativeLinks(markdown)) {
    const [path = '', anchor] = target.split('#', 2);
    const resolved = path === '' ? join(root, file) : join(root, dirname(file), decodeURIComponent(path));
    const where = `${file}:${line} (${target})`;
    if (relative(root, resolved).startsWith('..')) {
      problems.push(`${where}: points outside the repository`);
      continue;
    }
    if (!existsSync(resolved)) {
      problems.push(`${where}: ${relative(root, resolved)} does not exist`);
      continue;
    }
    if (anchor === undefined || anchor === '') continue;
    if (statSync(resolved).isDirectory() || !resolved.endsWith('.md')) {
      problems.push(`${where}: an #anchor into something that is not a Markdown file`);
      continue;
    }
    const headings = anchors(readFileSync(resolved, 'utf8'));
    if (!headings.has(anchor)) problems.push(`${where}: no heading of ${relative(root, resolved)} has the anchor #${anchor}`);
  }
  return problems;
}
