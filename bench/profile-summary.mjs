// Summarises a .cpuprofile (from --cpu-prof): self time per function, top N.
//   node bench/profile-summary.mjs FILE.cpuprofile [N]
import { readFileSync } from 'node:fs';

const [file, top = '30'] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const self = new Map();
const deltas = profile.timeDeltas;
for (let i = 0; i < profile.samples.length; i++) {
  const node = byId.get(profile.samples[i]);
  const { functionName, url, lineNumber } = node.callFrame;
  const key = `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '~/').replace(/^file:\/\/.*\/bench\//, 'bench/')}:${lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + (deltas[i] ?? 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) {
  console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`);
}

// Then by origin: this package, each dependency, Node internals, native (syscalls, GC).
const groups = new Map();
for (const [key, us] of self) {
  const where = key.slice(key.indexOf(' ') + 1);
  const group = key.startsWith('(idle)') ? '(idle)'
    : where.includes('koa-qsession') ? 'koa-qsession'
    : where.startsWith('~/') ? where.slice(2).split('/').slice(0, where.startsWith('~/@') ? 2 : 1).join('/')
    : where.startsWith('node:') ? 'node internals'
    : where.startsWith('bench/') ? 'bench code'
    : 'native / GC / other';
  groups.set(group, (groups.get(group) ?? 0) + us);
}
const busy = total - (groups.get('(idle)') ?? 0);
console.log('\nby origin (share of non-idle time):');
for (const [group, us] of [...groups].filter(([g]) => g !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, 15)) {
  console.log(`${((100 * us) / busy).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${group}`);
}
