-- Whole calls for wrk: a first request, then a no-answer follow-up reporting the
-- number it got, which gets the next agent. Usage (one connection per thread, so
-- that each thread's follow-up goes out right after its own first request):
--   wrk -tN -cN ... -s bench/call.lua URL -- CALLS_FILE N
-- Each line of CALLS_FILE is a first request's path, a tab, and the follow-up's
-- path with NUMBER where the national number answered goes.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  calls = {}
  for line in io.lines(args[1]) do
    local first, follow_up = line:match("^([^\t]+)\t(.+)$")
    table.insert(calls, {first, follow_up})
  end
  step = tonumber(args[2])
  next_index = id + 1
  wrapped = 0
  follow_up = nil -- the follow-up due next on this thread's connection
  sent_follow_up = false
  calls_done = 0
  unanswered = 0 -- a first request with no number, or a follow-up with the same one
  last_number = nil
end

function request()
  if follow_up then
    local path = follow_up
    follow_up = nil
    sent_follow_up = true
    return wrk.format("GET", path)
  end
  local call = calls[next_index]
  next_index = next_index + step
  if next_index > #calls then
    next_index = (next_index - 1) % #calls + 1
    wrapped = wrapped + 1
  end
  sent_follow_up = false
  pending_template = call[2]
  return wrk.format("GET", call[1])
end

function response(status, headers, body)
  if sent_follow_up then
    calls_done = calls_done + 1
    if status ~= 200 or body == "" or body == last_number then
      unanswered = unanswered + 1
    end
    return
  end
  if status == 200 and body:match("^%+91%d+$") then
    last_number = body
    follow_up = pending_template:gsub("NUMBER", "0" .. body:sub(4))
  else
    unanswered = unanswered + 1
  end
end

function done(summary, latency, requests)
  local wraps, calls_total, unanswered_total = 0, 0, 0
  for _, thread in ipairs(threads) do
    wraps = wraps + thread:get("wrapped")
    calls_total = calls_total + thread:get("calls_done")
    unanswered_total = unanswered_total + thread:get("unanswered")
  end
  local errors = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"errors": %d, "non_2xx": %d, "wrapped": %d, "calls": %d, "unanswered": %d}\n',
    summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(99),
    errors.connect + errors.read + errors.write + errors.timeout, errors.status,
    wraps, calls_total, unanswered_total))
end
