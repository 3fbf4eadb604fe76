import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Problems with the commands of a shell block: `npm start` / `npm test` / `npm run x` must be scripts
 * of package.json, `node f` / `bash f` files must exist, anything else must be a command on PATH.
 */
export function shellProblems(code: string, root: string, scripts: Record<string, string>): string[] {
  const problems: string[] = [];
  for (const raw of code.split('\n')) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') continue;
    for (const command of line.split(/&&|\|\||;|\|/).map((c) => c.trim()).filter(Boolean)) {
      const words = command.split(/\s+/).filter((w) => !/^[A-Z_][A-Z0-9_]*=/.test(w)); // FOO=bar npm start
      const problem = checkCommand(words, root, scripts);
      if (problem) problems.push(`\`${command}\`: ${problem}`);
    }
  }
  return problems;
}

function checkCommand([name = '', ...args]: string[], root: string, scripts: Record<string, string>): string | undefined {
  switch (name) {
    case 'npm': {
      const [sub = '', script = ''] = args;
      if (['install', 'i', 'ci'].includes(sub)) return undefined;
      if (sub === 'start' || sub === 'test') return scripts[sub] ? undefined : `package.json has no "${sub}" script`;
      if (sub === 'run') return scripts[script] ? undefined : `package.json has no "${script}" script`;
      return `npm ${sub} is not a command this check knows`;
    }
    case 'node':
    case 'bash':
    case 'sh': {
      const file = args.find((a) => !a.startsWith('-'));
      return file === undefined || existsSync(join(root, file)) ? undefined : `${file} does not exist`;
    }
    case 'npx':
      return existsSync(join(root, 'node_modules/.bin', args[0] ?? '')) ? undefined : `${args[0]} is not a dev dependency`;
    default:
      return onPath(name) ? undefined : `${name} is neither an npm script nor a command on PATH`;
  }
}

function onPath(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v "$0"`, command], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
