-- wrk script for scripts/load_test.sh: POST /recommend for known users, cycling through the ids of
-- a file (one a line, given after `--`), and a summary of throughput, latency and errors.
local users = {}
local next_user = 0
local k = 10

local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end

function init(args)
  for line in io.lines(args[1]) do
    if line ~= "" then users[#users + 1] = line end
  end
  if #users == 0 then error("no user ids in " .. args[1]) end
  if args[2] then k = tonumber(args[2]) end
  -- Threads start at different users, so they do not ask the same ones in step.
  next_user = math.random(#users) - 1
end

function request()
  next_user = next_user % #users + 1
  local body = '{"user_id": ' .. json_string(users[next_user]) .. ', "k": ' .. k .. '}'
  return wrk.format("POST", "/recommend", {["Content-Type"] = "application/json"}, body)
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format("requests      %d in %.1f s: %.0f requests/s\n", summary.requests, seconds,
                         summary.requests / seconds))
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format("latency p%-5s %.3f ms\n", tostring(p), latency:percentile(p) / 1000))
  end
  io.write(string.format("latency max   %.3f ms\n", latency.max / 1000))
  io.write(string.format("errors        connect %d, read %d, write %d, timeout %d, non-2xx status %d\n",
                         e.connect, e.read, e.write, e.timeout, e.status))
end
