// The load generator: one process, kept for the whole run (started by lib/measure.mjs with an IPC
// channel), so its start-up is not paid per measurement and autocannon stays warm. Each message
// { url, connections, duration (s) or amount (requests), cookies } runs autocannon against one route of one contender and
// answers with the result. `cookies`: none (`anon`), one (`hot`: every request on one session) or a
// pool, from which each request takes the next one, so sessions rotate across the connections.
// Latencies are kept per answer (autocannon's own histogram has 1 ms steps, too coarse here).
import autocannon from 'autocannon';

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function requestsFor(cookies) {
  if (cookies.length <= 1) return { headers: cookies.length ? { cookie: cookies[0] } : {} };
  let next = 0;
  const setupRequest = (request) => ({ ...request, headers: { ...request.headers, cookie: cookies[next++ % cookies.length] } });
  return { requests: [{ method: 'GET', setupRequest }] };
}

function measure({ url, connections, duration, amount, cookies = [] }) {
  const latencies = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon({ url, connections, ...(amount ? { amount } : { duration }), pipelining: 1, sampleInt: 100, ...requestsFor(cookies) }, (error, result) => {
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
    // sampleInt: autocannon checks its stop flag once per sample; 100 ms keeps a 1.5 s run near 1.5 s.
    // Every answer counts, 2xx or not: a 503 is waited for too.
    instance.on('response', (client, statusCode, bytes, responseTime) => latencies.push(responseTime));
  });
}

process.on('message', (job) => {
  measure(job).then(
    (result) => process.send({ result }),
    (error) => process.send({ error: String(error?.stack ?? error) }),
  );
});
process.on('disconnect', () => process.exit(0));
