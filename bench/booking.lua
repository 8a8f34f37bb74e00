-- Books a container namespace (S) per request through POST /api/v1/bookings,
-- for bench/booking.sh. Each wrk thread (one connection each) books as one
-- Systempfleger:in on one application, read from the file BENCH_CALLERS
-- names ("token application_id" per line): thread i takes line
-- 1 + (i - 1) mod lines, so one line means every thread books under one
-- contract. Counts the answers by status as wrk-status.lua does.
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("index", counter)
  table.insert(threads, thread)
end

local stages = { "vorpruefung", "abnahme", "schulung", "produktion" }
local n = 0

function init(args)
  statuses = {}
  local callers = {}
  for line in io.lines(os.getenv("BENCH_CALLERS")) do
    local token, app = line:match("^(%S+)%s+(%d+)$")
    table.insert(callers, { token = token, app = app })
  end
  local me = callers[1 + (index - 1) % #callers]
  headers = {
    ["Authorization"] = "Bearer " .. me.token,
    ["Content-Type"] = "application/json",
  }
  app = me.app
end

function request()
  n = n + 1
  local body = string.format(
    '{"application_id":%s,"stage":"%s","product":"container-namespace","size":"S"}',
    app, stages[1 + n % 4])
  return wrk.format("POST", "/api/v1/bookings", headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, k in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + k
    end
  end
  local keys = {}
  for status in pairs(total) do table.insert(keys, status) end
  table.sort(keys)
  local parts = {}
  for _, status in ipairs(keys) do
    table.insert(parts, status .. "=" .. total[status])
  end
  io.write("statuses: " .. table.concat(parts, " ") .. "\n")
end
