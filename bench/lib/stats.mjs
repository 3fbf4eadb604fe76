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
    medianLoadGenCpuUs: median(rounds.map((r) => r.loadGenCpuPerRequestUs)),
    medianPageP50: median(rounds.map((r) => r.pageP50)),
    medianPageP99: median(rounds.map((r) => r.pageP99)),
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
export function pairedMedian(ra, rb, f) {
  return median(ra.map((r, i) => (rb[i] ? f(r, rb[i]) : NaN)));
}

/** Each target on each payload its route has: { text, value, cpuValue, met, count }. */
export function evaluateTargets(contenders, payloads) {
  const out = [];
  const casesOf = (route) => (route === 'anon' ? ['anon'] : route === 'page' ? ['page'] : payloads.map((p) => `${route}/${p}`));
  for (const target of TARGETS) {
    const a = contenders[target.a];
    if (!a || a.skipped) continue;
    if (target.kind === 'cpuGrowth') {
      const small = a.cases[`${target.route}/small`];
      const large = a.cases[`${target.route}/large`];
      if (!small || !large) continue;
      const value = large.medianCpuUs / small.medianCpuUs;
      out.push({ text: `${a.label}: CPU per \`${target.route}\` of the 4 KB session / of the 0.6 KB one ≤ ${target.max}`, value, met: value <= target.max });
      continue;
    }
    if (target.kind === 'noFailures') {
      const keys = Object.keys(a.cases);
      if (keys.length === 0) continue;
      const failed = keys.reduce((n, key) => n + a.cases[key].non2xx + a.cases[key].errors, 0);
      out.push({ text: `${a.label}: non-2xx answers on every route (${keys.map((k) => `\`${k}\``).join(', ')})`, value: failed, met: failed === 0, count: true });
      continue;
    }
    if (target.kind === 'pageRatio') {
      const x = a.cases.page;
      const y = contenders[target.b]?.cases.page;
      if (!x || !y) continue;
      const value = pairedMedian(x.rounds, y.rounds, (r, s) => r.pageP50 / s.pageP50);
      out.push({ text: `\`page\` p50: ${a.label} / ${contenders[target.b].label} ≤ ${target.max}`, value, met: value <= target.max });
      continue;
    }
    for (const key of casesOf(target.route)) {
      const stats = a.cases[key];
      if (!stats) continue;
      if (target.kind === 'noLostUpdates') {
        out.push({ text: `${a.label}: updates lost on \`${key}\``, value: stats.lostUpdates, met: stats.lostUpdates === 0, count: true });
        continue;
      }
      const b = contenders[target.b]?.cases[key];
      if (!b) continue;
      const value = pairedMedian(stats.rounds, b.rounds, (x, y) => x.rps / y.rps);
      const cpuValue = pairedMedian(stats.rounds, b.rounds, (x, y) => x.cpuPerRequestUs / y.cpuPerRequestUs);
      out.push({ text: `\`${key}\`: ${a.label} / ${contenders[target.b].label} ≥ ${target.min}`, value, cpuValue, met: value >= target.min });
    }
  }
  return out;
}
