import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The Python reference: Debian's python3-quart under /usr/bin/python3 (not whatever `python3` is on
 * PATH). Installing it is `scripts/install-system-deps.sh`'s job (run by `npm test`'s pretest and by
 * .ci/run), never a spec's: missing, it is a loud failure naming that script, never a skip.
 */
export const PYTHON = '/usr/bin/python3';
const PROBE = ['-c', 'import quart.json.tag, markupsafe, werkzeug.http'];

export function ensureQuart(): void {
  if (probe()) return;
  throw new Error(`${PYTHON} cannot import quart: run \`bash scripts/install-system-deps.sh\` as root (it installs Debian's python3-quart)`);
}

function probe(): boolean {
  return spawnSync(PYTHON, PROBE, { encoding: 'utf8' }).status === 0;
}

export interface PyResult<T> {
  ok?: T;
  error?: string;
}
export interface PyAnswer {
  dumps: PyResult<string>;
  same?: PyResult<boolean>;
  redump?: PyResult<string>;
}
export interface PyReply {
  quart: PyAnswer;
  flask: PyAnswer;
}

/** One batch call of spec/support/tagged_json_ref.py: one reply per case, in order. */
export function runReference(cases: readonly { expr: string; js: string | null }[]): PyReply[] {
  ensureQuart();
  const script = fileURLToPath(new URL('./tagged_json_ref.py', import.meta.url));
  const input = cases.map((c) => JSON.stringify(c)).join('\n') + '\n';
  const run = spawnSync(PYTHON, [script], { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`the Python reference failed (${run.status}):\n${run.stderr}`);
  const replies = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as PyReply);
  if (replies.length !== cases.length) throw new Error(`the Python reference answered ${replies.length} of ${cases.length} cases`);
  return replies;
}
