-- Paced mode, shared by the load scripts: with TOUSU_THINK_MS set, each connection waits a
-- random think time (exponential, this mean, in ms) before its next request, so 32
-- connections offer a steady ~1,000 req/s instead of as many as the server can take; latency
-- is then measured at that load, not at saturation, where a closed loop of 32 connections
-- makes p99 ≈ 32 / throughput.
local think = tonumber(os.getenv("TOUSU_THINK_MS") or "")
if think then
  local calls = 0
  delay = function()
    if calls == 0 then
      -- Each wrk thread has its own Lua state: seed each differently.
      math.randomseed(os.time() + math.floor(os.clock() * 1e6))
    end
    calls = calls + 1
    return -think * math.log(1 - math.random())
  end
end
