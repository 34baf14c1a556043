-- GET TOUSU_PATH over and over (a workbench read: a work queue, a KPI query, a faceted
-- search), closed loop or paced (pace.lua).
local path = os.getenv("TOUSU_PATH")
request = function()
  return wrk.format("GET", path)
end

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "pace.lua")
