-- GET /v1/cases/{id}/similar (an analyst opening a case's similar cases) for the case numbers
-- in TOUSU_IDS (one a line, gathered by run.sh from searches), in turn; closed loop or paced
-- (pace.lua).
local ids = {}
for line in io.lines(os.getenv("TOUSU_IDS")) do
  ids[#ids + 1] = line
end
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/v1/cases/" .. ids[(n % #ids) + 1] .. "/similar")
end

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "pace.lua")
