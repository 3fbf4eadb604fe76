-- The wrk script of the bench (bench/lib/wrk.mjs runs it): one route, with no cookie, one cookie
-- (every request on one session) or a pool of cookies that the requests take in turn, so sessions
-- rotate across the connections. At the end it prints one JSON line: counts, errors and latency
-- percentiles in µs.
--   BENCH_WRK_ROTATE=1|0 wrk ... -s load.lua URL -- METHOD PATH [COOKIE_FILE]
-- With one request (no cookie or one), wrk sends it as formatted once, with no Lua call per
-- request; only a pool defines request() (wrk decides per run whether that function exists, before
-- any thread's init, so the environment says which). Its requests are formatted once too, in init.
-- wrk counts an answer with a status above 399 in errors.status; the bench's servers answer 200, or
-- 4xx / 5xx when something fails (none redirects), so that count is the non-2xx answers.
local requests, count, nextIndex = {}, 0, 0
local started = 0

function setup(thread)
  started = started + 1
  thread:set("threadIndex", started)
end

function init(args)
  local method, path, cookieFile = args[1], args[2], args[3]
  -- A POST carries an empty body, so a Content-Length: 0 (wrk.format writes it for a body).
  local body = nil
  if method == "POST" then body = "" end
  local cookies = {}
  if cookieFile and cookieFile ~= "" then
    for line in io.lines(cookieFile) do
      if line ~= "" then table.insert(cookies, line) end
    end
  end
  -- What wrk.init formats once after this function, for the static case.
  wrk.method, wrk.path, wrk.body = method, path, body
  if #cookies == 1 then wrk.headers["Cookie"] = cookies[1] end
  for i, cookie in ipairs(cookies) do
    requests[i] = wrk.format(method, path, { Cookie = cookie }, body)
  end
  count = #requests
  -- Threads (when more than one) start at different places in the pool.
  if count > 0 then nextIndex = (((threadIndex or 1) - 1) * 7919) % count end
end

if os.getenv("BENCH_WRK_ROTATE") == "1" then
  function request()
    nextIndex = nextIndex % count + 1
    return requests[nextIndex]
  end
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"durationUs":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p99":%d,"mean":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
