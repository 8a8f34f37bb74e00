-- Counts wrk's answers by HTTP status, per thread, and prints them once at
-- the end as one line "statuses: 200=12345 429=17" that bench/http.sh reads:
-- a benchmark whose answers are errors must not report their speed.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + n
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
