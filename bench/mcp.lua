-- wrk script: `tools/call list_alerts` (limit 50) over Streamable HTTP, 2025 era, no session.
-- Each request carries the next of BENCH_KEYS distinct API keys (thread t uses t, t+T, ...),
-- so the server's per-key budget (120/min) is never the limit and its key cache is exercised.
-- Errors counted: non-200, a JSON-RPC error, or a tool answer with "isError":true.
-- BENCH_BODY replaces the request body (bench/run.py uses it to check the error count).
local NKEYS = tonumber(os.getenv("BENCH_KEYS") or "5000")
local NTHREADS = tonumber(os.getenv("BENCH_THREADS") or "2")
local BODY = os.getenv("BENCH_BODY")
  or '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_alerts","arguments":{"limit":50}}}'

local threads = {}
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

local reqs, n, i = {}, 0, 0
responses, errors, bytes = 0, 0, 0

function init(args)
  local k = tid
  while k < NKEYS do
    n = n + 1
    reqs[n] = wrk.format("POST", "/mcp", {
      ["Content-Type"] = "application/json",
      ["Accept"] = "application/json, text/event-stream",
      ["MCP-Protocol-Version"] = "2025-11-25",
      ["Authorization"] = "Bearer bench-key-" .. k,
    }, BODY)
    k = k + NTHREADS
  end
end

function request()
  i = i % n + 1
  return reqs[i]
end

-- The checks look only where the marks can be, so that the client spends no more CPU per answer
-- than floor.lua does (client, upstream and server share the cores): a JSON-RPC error starts the
-- body, and rmcp writes `isError` as the last member of a tool result, so it sits in the last
-- bytes. bench/run.py checks first that both kinds of error are counted.
local RPC_ERROR = '{"jsonrpc":"2.0","id":1,"error"'
function response(status, headers, body)
  responses = responses + 1
  local len = #body
  bytes = bytes + len
  if status ~= 200 or string.sub(body, 1, #RPC_ERROR) == RPC_ERROR
     or string.find(body, '"isError":true', math.max(1, len - 64), true) then
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local errs, resp, by = 0, 0, 0
  for _, t in ipairs(threads) do
    errs = errs + t:get("errors")
    resp = resp + t:get("responses")
    by = by + t:get("bytes")
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d sock_errors=%d status_errors=%d app_errors=%d responses=%d body_bytes=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.timeout, e.status, errs, resp, by))
end
