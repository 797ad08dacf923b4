-- Saturation load for wrk: each request takes the next line of a file, so every
-- call has its own CallSid. Usage: wrk -tN ... -s bench/wrk.lua URL -- PATHS_FILE N
-- Thread i of n sends lines i, i+n, i+2n, ...; `wrapped` counts reuse of a line.
--
-- A line "FIRST<tab>FOLLOW_UP" is a whole call: the first request, then the
-- no-answer follow-up with NUMBER replaced by the national number the first got,
-- which gets the next agent. Give each thread one connection (-tN -cN) so that a
-- thread's follow-up goes out right after its own first request.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  lines = {}
  for line in io.lines(args[1]) do
    local first, template = line:match("^([^\t]+)\t(.+)$")
    table.insert(lines, {first or line, template})
  end
  step = tonumber(args[2])
  next_index = id + 1
  wrapped = 0
  template = nil -- the follow-up template of the call whose first request is out
  follow_up = nil -- the follow-up due next on this thread's connection
  sent_follow_up = false
  last_number = nil
  calls_done = 0
  unanswered = 0 -- a first request with no number, or a follow-up with the same one
end

function request()
  if follow_up then
    local path = follow_up
    follow_up = nil
    sent_follow_up = true
    return wrk.format("GET", path)
  end
  local line = lines[next_index]
  next_index = next_index + step
  if next_index > #lines then
    next_index = (next_index - 1) % #lines + 1
    wrapped = wrapped + 1
  end
  sent_follow_up = false
  template = line[2]
  return wrk.format("GET", line[1])
end

function response(status, headers, body)
  if not template then
    return
  end
  if sent_follow_up then
    calls_done = calls_done + 1
    if status ~= 200 or body == "" or body == last_number then
      unanswered = unanswered + 1
    end
  elseif status == 200 and body:match("^%+91%d+$") then
    last_number = body
    follow_up = template:gsub("NUMBER", "0" .. body:sub(4))
  else
    unanswered = unanswered + 1
  end
end

function done(summary, latency, requests)
  local wraps, calls, missing = 0, 0, 0
  for _, thread in ipairs(threads) do
    wraps = wraps + thread:get("wrapped")
    calls = calls + thread:get("calls_done")
    missing = missing + thread:get("unanswered")
  end
  local errors = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"errors": %d, "non_2xx": %d, "wrapped": %d, "calls": %d, "unanswered": %d}\n',
    summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(99),
    errors.connect + errors.read + errors.write + errors.timeout, errors.status,
    wraps, calls, missing))
end
