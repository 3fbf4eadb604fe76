/**
 * Run by spec/serializers/runtime-json.spec.ts in a process of its own (the self-test and its warning
 * are once per process): `standalone` uses the serializer alone, `middleware` creates qsession()
 * twice before any session is read. Prints one JSON line: the warning codes seen after each step.
 */
import { qsession, taggedJsonSerializer } from 'koa-qsession';
import { SESSION_A, SESSION_B } from './runtime-json-vectors.js';

const codes: string[] = [];
process.on('warning', (warning) => codes.push(String((warning as Error & { code?: string }).code)));
// process.emitWarning delivers on a later tick.
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
const seen = () => codes.filter((code) => code.startsWith('QSESSION_RUNTIME')).length;

const steps: Record<string, number> = {};
if (process.argv[2] === 'middleware') {
  const first = qsession({});
  await settle();
  steps.afterStartUp = seen();
  const second = qsession({});
  await Promise.all([first.close(), second.close()]);
}
for (let i = 0; i < 3; i++) {
  taggedJsonSerializer.loads(SESSION_A);
  taggedJsonSerializer.loads(SESSION_B);
}
await settle();
steps.afterLoads = seen();
const keys = Object.keys(taggedJsonSerializer.loads(SESSION_B).v as object);
console.log(JSON.stringify({ steps, keys }));
