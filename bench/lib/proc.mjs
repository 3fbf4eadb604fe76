// CPU time from the OS (/proc/<pid>/stat, Linux): what a process and its threads spent, counted by
// the kernel rather than reported by the process itself. `cpuOfProcess` reads a server under test;
// `cpuOfReapedChildren` reads the CPU of this process's children that have exited and been waited
// for (cutime + cstime), which is how a finished wrk's CPU is known: it is the only child that ends
// during a measurement. Ticks are 1 / CLK_TCK s (10 ms on Linux): over a measurement of thousands
// of requests that is well under 1 µs per request.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

export const procAvailable = existsSync('/proc/self/stat');
let ticksPerSecond;

function tickUs() {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return 1e6 / ticksPerSecond;
}

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces): [0] is field 3, `state`. */
function statFields(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** µs of CPU (user + system, all threads) that process `pid` has used; NaN without /proc. */
export function cpuOfProcess(pid) {
  if (!procAvailable) return NaN;
  const f = statFields(pid);
  return (Number(f[11]) + Number(f[12])) * tickUs(); // utime, stime
}

/** µs of CPU used by this process's children that have exited and been reaped; NaN without /proc. */
export function cpuOfReapedChildren() {
  if (!procAvailable) return NaN;
  const f = statFields('self');
  return (Number(f[13]) + Number(f[14])) * tickUs(); // cutime, cstime
}
