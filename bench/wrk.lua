-- Saturation load for wrk: each request takes the next path of a file, so every
-- call has its own CallSid. Usage: wrk -tN ... -s bench/wrk.lua URL -- PATHS_FILE N
-- Thread i of n sends lines i, i+n, i+2n, ...; `wrapped` counts reuse of a line.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  for line in io.lines(args[1]) do
    table.insert(paths, line)
  end
  step = tonumber(args[2])
  next_index = id + 1
  wrapped = 0
end

function request()
  local path = paths[next_index]
  next_index = next_index + step
  if next_index > #paths then
    next_index = (next_index - 1) % #paths + 1
    wrapped = wrapped + 1
  end
  return wrk.format("GET", path)
end

function done(summary, latency, requests)
  local wraps = 0
  for _, thread in ipairs(threads) do
    wraps = wraps + thread:get("wrapped")
  end
  local errors = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"errors": %d, "non_2xx": %d, "wrapped": %d}\n',
    summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(99),
    errors.connect + errors.read + errors.write + errors.timeout, errors.status,
    wraps))
end
