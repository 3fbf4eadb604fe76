// The load generator, one process per measurement: autocannon against one route of one contender.
// argv[2] is JSON: { url, connections, duration, cookies: string[] } (cookies: one Cookie header per
// connection, each its own session; empty for `anon`). Prints one JSON line with the result.
import autocannon from 'autocannon';

const { url, connections, duration, cookies = [] } = JSON.parse(process.argv[2]);
let next = 0;
const result = await autocannon({
  url,
  connections,
  duration,
  pipelining: 1,
  // Each connection sends its own session's cookie, set once (setupClient), so no per-request rebuild.
  setupClient: cookies.length > 0 ? (client) => client.setHeaders({ cookie: cookies[next++ % cookies.length] }) : undefined,
});
process.stdout.write(JSON.stringify({
  requests: result.requests.total,
  // Sent, answered or not: the server did the work for each (the denominator of commands per request).
  sent: result.requests.sent,
  duration: result.duration,
  rps: result.requests.total / result.duration,
  non2xx: result.non2xx,
  errors: result.errors + result.timeouts,
  latencyP50: result.latency.p50,
  latencyP99: result.latency.p99,
}) + '\n');
