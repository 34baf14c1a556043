-- GET /v1/search with varied Chinese queries, filters and sorts.
local queries = {
  "q=%E5%AE%BD%E5%B8%A6",                                   -- 宽带
  "q=%E5%AE%BD%E5%B8%A6%20%E6%96%AD%E7%BD%91",              -- 宽带 断网
  "q=%E5%81%9C%E8%BD%A6%E8%B4%B9&grade=%E4%B8%A5%E9%87%8D",  -- 停车费, grade=严重
  "q=%E6%B2%B9%E7%83%9F&sort=newest",                       -- 油烟, newest
  "q=%E5%85%AC%E7%A7%AF%E9%87%91%20OR%20%E5%9F%B9%E8%AE%AD", -- 公积金 OR 培训
  "channel=wechat&sort=newest",
}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/v1/search?" .. queries[(n % #queries) + 1])
end

-- Paced mode when TOUSU_THINK_MS is set (see pace.lua, beside this file).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "pace.lua")
