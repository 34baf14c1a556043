-- POST /v1/cases (or TOUSU_PATH) with the request bodies in TOUSU_BODIES, one JSON object a
-- line (make_cases.py --bodies): real complaints of every length, each sent once, so
-- that creates link, group and alert as ordinary intake does (triage.lua's four complaints
-- repeated make every create a near duplicate in one ever-growing group: the worst case).
local bodies = {}
for line in io.lines(os.getenv("TOUSU_BODIES")) do
  bodies[#bodies + 1] = line
end
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
-- TOUSU_START: where in the file this run starts (runs of creates against one store take
-- bodies of their own, or the second would be near duplicates of the first). The second
-- thread starts TOUSU_SHARE bodies further on.
local start = tonumber(os.getenv("TOUSU_START") or "0")
local share = tonumber(os.getenv("TOUSU_SHARE") or "8000")
local n = nil
wrk.method = "POST"
wrk.path = os.getenv("TOUSU_PATH") or "/v1/cases"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n or start + (tid or 0) * share
  n = n + 1
  return wrk.format(nil, nil, nil, bodies[(n % #bodies) + 1])
end

-- Paced mode when TOUSU_THINK_MS is set (see pace.lua, beside this file).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "pace.lua")
