-- POST /v1/triage (or /v1/cases: set wrk.path below via the PATH env) with varied complaints.
local texts = {
  "客户来电反映，其家庭宽带自本月三号起频繁断网，每天晚上七点到十一点基本无法上网，光猫指示灯闪红，已报修两次，装维人员一直未上门处理，要求今天之内安排师傅上门检修，并减免本月宽带费用。",
  "用户反映本月话费账单中出现一笔二十元的视频彩铃费用，用户称从未订购过该业务，也没有收到任何订购确认短信，怀疑被营业厅工作人员私自开通，要求查明开通渠道，退还所有不知情扣费。",
  "尊敬的领导：我们是阳光花园小区的业主，小区东门外的空地最近被改成了临时停车场，每天夜里都有大货车进出，噪音非常大，而且经常占用消防通道，存在很大的安全隐患，恳请有关部门尽快调查处理。",
  "客户于营业厅办理携号转网时被告知名下有未结清的合约，无法办理，客户称合约已于去年到期，营业员却说需要再等三个月，要求核实合约到期时间并立即办理转网，如不处理将向工信部投诉。",
}
local n = 0
wrk.method = "POST"
wrk.path = os.getenv("TOUSU_PATH") or "/v1/triage"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  local body = string.format('{"text":"%s（第%d次）","channel":"phone"}', texts[(n % #texts) + 1], n)
  return wrk.format(nil, nil, nil, body)
end

-- Paced mode when TOUSU_THINK_MS is set (see pace.lua, beside this file).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "pace.lua")
