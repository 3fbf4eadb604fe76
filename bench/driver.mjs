// The Node-side client, one process kept for the whole run (started by lib/measure.mjs with an IPC
// channel), never the server's process. Two jobs:
//  - { kind: 'page', url, cookie, parallel, seconds }: the parallel-read page. Pages one after the
//    other, each `parallel` GETs sent at once on one session (keep-alive, one socket each, as a
//    browser's page of API calls); a page's time runs from its first request to its last answer.
//  - { kind: 'autocannon', url, method, connections, duration (s) or amount, cookies }: autocannon,
//    for the memory measurement (a fixed number of /setup requests) and as the load generator when
//    wrk is not installed. `cookies`: none, one, or a pool taken in turn.
// Each answer carries this process's CPU for the job (process.cpuUsage), so its cost is known.
import autocannon from 'autocannon';
import { Agent, request } from 'node:http';

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function requestsFor(method, cookies) {
  const body = method === 'POST' ? '' : undefined;
  if (cookies.length <= 1) return { method, body, headers: cookies.length ? { cookie: cookies[0] } : {} };
  let next = 0;
  const setupRequest = (r) => ({ ...r, headers: { ...r.headers, cookie: cookies[next++ % cookies.length] } });
  return { requests: [{ method, body, setupRequest }] };
}

function load({ url, method = 'GET', connections, duration, amount, cookies = [] }) {
  const latencies = [];
  return new Promise((resolve, reject) => {
    const options = { url, connections, ...(amount ? { amount } : { duration }), pipelining: 1, sampleInt: 100, ...requestsFor(method, cookies) };
    const instance = autocannon(options, (error, result) => {
      if (error) return reject(error);
      const sorted = Float64Array.from(latencies).sort();
      resolve({
        requests: result.requests.total,
        // Sent, answered or not: the server did the work for each (the denominator of CPU and commands per request).
        sent: result.requests.sent,
        duration: result.duration,
        rps: result.requests.total / result.duration,
        ok: result['2xx'],
        non2xx: result.non2xx,
        errors: result.errors + result.timeouts,
        latencyP50: percentile(sorted, 50),
        latencyP99: percentile(sorted, 99),
      });
    });
    // sampleInt: autocannon checks its stop flag once per sample. Every answer counts, 2xx or not.
    instance.on('response', (client, statusCode, bytes, responseTime) => latencies.push(responseTime));
  });
}

function get(agent, url, cookie) {
  return new Promise((resolve) => {
    const req = request(url, { agent, headers: cookie ? { cookie } : {} }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode));
      res.once('error', () => resolve(0));
    });
    req.once('error', () => resolve(0));
    req.end();
  });
}

async function page({ url, cookie, parallel, seconds }) {
  const agent = new Agent({ keepAlive: true, maxSockets: parallel });
  const once = async () => {
    const started = performance.now();
    const statuses = await Promise.all(Array.from({ length: parallel }, () => get(agent, url, cookie)));
    return { ms: performance.now() - started, failed: statuses.filter((s) => s < 200 || s > 299).length };
  };
  try {
    await once(); // opens the sockets; not counted
    const times = [];
    let failed = 0;
    const until = performance.now() + seconds * 1000;
    const started = performance.now();
    while (performance.now() < until) {
      const p = await once();
      times.push(p.ms);
      failed += p.failed;
    }
    const duration = (performance.now() - started) / 1000;
    const sorted = Float64Array.from(times).sort();
    const requests = times.length * parallel;
    return {
      pages: times.length,
      requests,
      sent: requests,
      duration,
      rps: requests / duration,
      ok: requests - failed,
      non2xx: failed,
      errors: 0,
      pageP50: percentile(sorted, 50),
      pageP99: percentile(sorted, 99),
    };
  } finally {
    agent.destroy();
  }
}

process.on('message', (job) => {
  const cpu = process.cpuUsage();
  (job.kind === 'page' ? page(job) : load(job)).then(
    (result) => {
      const used = process.cpuUsage(cpu);
      process.send({ result: { ...result, loadGenCpuUs: used.user + used.system } });
    },
    (error) => process.send({ error: String(error?.stack ?? error) }),
  );
});
process.on('disconnect', () => process.exit(0));
