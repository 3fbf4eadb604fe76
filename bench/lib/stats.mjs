// From the rounds' raw measurements to what the report shows: medians over rounds, sums of the
// failures, store calls per request, and the targets (lib/contenders.mjs) met or missed.
import { TARGETS } from './contenders.mjs';

export function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const sum = (rounds, key) => rounds.reduce((total, r) => total + (r[key] ?? 0), 0);

/** Calls per request, summed over commands and rounds. */
function perRequest(rounds, key) {
  if (!rounds.every((r) => r[key])) return undefined;
  const requests = rounds.reduce((total, r) => total + (r.sent || r.requests), 0);
  const totals = {};
  for (const r of rounds) for (const [name, n] of Object.entries(r[key])) totals[name] = (totals[name] ?? 0) + n;
  const byCommand = Object.fromEntries(Object.entries(totals).map(([name, n]) => [name, n / requests]).filter(([, v]) => v >= 0.005));
  return { total: Object.values(totals).reduce((a, b) => a + b, 0) / requests, byCommand };
}

/** The figures of one case of one contender, from its rounds. */
export function summarize(rounds) {
  return {
    rounds,
    medianRps: median(rounds.map((r) => r.rps)),
    medianP50: median(rounds.map((r) => r.latencyP50)),
    medianP99: median(rounds.map((r) => r.latencyP99)),
    medianCpuUs: median(rounds.map((r) => r.cpuPerRequestUs)),
    medianRedisCpuUs: median(rounds.map((r) => r.redisCpuPerRequestUs)),
    requests: sum(rounds, 'requests'),
    non2xx: sum(rounds, 'non2xx'),
    errors: sum(rounds, 'errors'),
    ok: sum(rounds, 'ok'),
    lostUpdates: rounds.some((r) => r.lostUpdates !== undefined) ? sum(rounds, 'lostUpdates') : undefined,
    redisPerRequest: perRequest(rounds, 'redisCalls'),
    memcachedPerRequest: perRequest(rounds, 'memcachedCalls'),
  };
}

/** Median over rounds of f(round of a, round of b), the two measured back to back. */
function pairedMedian(ra, rb, f) {
  return median(ra.map((r, i) => (rb[i] ? f(r, rb[i]) : NaN)));
}

/** Each target on each payload its route has: { text, value, cpuValue, met }. */
export function evaluateTargets(contenders, payloads) {
  const out = [];
  const casesOf = (route) => (route === 'anon' ? ['anon'] : payloads.map((p) => `${route}/${p}`));
  for (const target of TARGETS) {
    const a = contenders[target.a];
    if (!a) continue;
    if (target.kind === 'cpuGrowth') {
      const small = a.cases[`${target.route}/small`];
      const large = a.cases[`${target.route}/large`];
      if (!small || !large) continue;
      const value = large.medianCpuUs / small.medianCpuUs;
      out.push({ text: `${a.label}: CPU per \`${target.route}\` of a \`large\` session / of a \`small\` one ≤ ${target.max}`, value, met: value <= target.max });
      continue;
    }
    for (const key of casesOf(target.route)) {
      const stats = a.cases[key];
      if (!stats) continue;
      if (target.kind === 'noNon2xx') {
        out.push({ text: `${a.label}: no non-2xx answer on \`${key}\``, value: stats.non2xx + stats.errors, met: stats.non2xx + stats.errors === 0, count: true });
        continue;
      }
      if (target.kind === 'noLostUpdates') {
        out.push({ text: `${a.label}: no update lost on \`${key}\``, value: stats.lostUpdates, met: stats.lostUpdates === 0, count: true });
        continue;
      }
      const b = contenders[target.b]?.cases[key];
      if (!b) continue;
      const value = pairedMedian(stats.rounds, b.rounds, (x, y) => x.rps / y.rps);
      const cpuValue = pairedMedian(stats.rounds, b.rounds, (x, y) => y.cpuPerRequestUs / x.cpuPerRequestUs);
      out.push({ text: `\`${key}\`: ${a.label} / ${contenders[target.b].label} ≥ ${target.min}`, value, cpuValue, met: value >= target.min });
    }
  }
  return out;
}
