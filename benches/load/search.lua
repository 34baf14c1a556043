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

-- Paced mode (TOUSU_THINK_MS set): each connection waits a random think time (exponential,
-- this mean, in ms) before its next request, so 32 connections offer a steady ~1,000 req/s
-- instead of as many as the server can take; latency is then measured at that load, not at
-- saturation, where a closed loop of 32 connections makes p99 ≈ 32 / throughput.
local think = tonumber(os.getenv("TOUSU_THINK_MS") or "")
if think then
  local seeded = false
  delay = function()
    if not seeded then
      math.randomseed(os.time() + n)
      seeded = true
    end
    return -think * math.log(1 - math.random())
  end
end
