// The load generator: one process, kept for the whole run (started by run.mjs with an IPC channel),
// so its start-up is not paid per measurement and autocannon stays warm. Each message
// { url, connections, duration, cookies } runs autocannon against one route of one contender
// (cookies: one Cookie header per connection, each its own session; empty for `anon`) and answers
// with the result.
import autocannon from 'autocannon';

async function measure({ url, connections, duration, cookies = [] }) {
  let next = 0;
  const result = await autocannon({
    url,
    connections,
    duration,
    pipelining: 1,
    // Each connection sends its own session's cookie, set once (setupClient), so no per-request rebuild.
    setupClient: cookies.length > 0 ? (client) => client.setHeaders({ cookie: cookies[next++ % cookies.length] }) : undefined,
  });
  return {
    requests: result.requests.total,
    // Sent, answered or not: the server did the work for each (the denominator of commands per request).
    sent: result.requests.sent,
    duration: result.duration,
    rps: result.requests.total / result.duration,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
  };
}

process.on('message', (job) => {
  measure(job).then(
    (result) => process.send({ result }),
    (error) => process.send({ error: String(error?.stack ?? error) }),
  );
});
process.on('disconnect', () => process.exit(0));
