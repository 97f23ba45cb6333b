-- wrk script: the floor, `GET /api/alerts` straight at the upstream, same settings as mcp.lua.
local threads = {}
function setup(thread) table.insert(threads, thread) end
responses, errors, bytes = 0, 0, 0
function response(status, headers, body)
  responses = responses + 1
  bytes = bytes + #body
  if status ~= 200 then errors = errors + 1 end
end
function done(summary, latency, requests)
  local errs, resp, by = 0, 0, 0
  for _, t in ipairs(threads) do
    errs = errs + t:get("errors"); resp = resp + t:get("responses"); by = by + t:get("bytes")
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d sock_errors=%d status_errors=%d app_errors=%d responses=%d body_bytes=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.timeout, e.status, errs, resp, by))
end
