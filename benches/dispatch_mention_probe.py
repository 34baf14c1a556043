#!/usr/bin/env python3
"""Would a rule that dispatches to the office a message itself names help? On the older reply
history only (the dispatch model's train + dev rows; the newer queries are not looked at), for
each message that names a kind of office (the names of `src/triage/office_kind.rs` and the short
forms citizens write: 城管, 交警, 物业, 社保, ...), how often the kind it names most is the kind
the reply names.

    tousu dispatch-split --data ../shared/datasets/tipdm/replies-history.jsonl --out /tmp/dsplit
    python3 benches/dispatch_mention_probe.py /tmp/dsplit
"""
import collections
import json
import re
import sys

split = sys.argv[1] if len(sys.argv) > 1 else "/tmp/dsplit"
src = open("src/triage/office_kind.rs", encoding="utf-8").read()
start = src.index("const SAME_KIND")
table = src[start : src.index("];", start)]
alias = {}
for m in re.finditer(r'\(\s*&\[(.*?)\],\s*"([^"]+)",?\s*\)', table, re.S):
    for name in re.findall(r'"([^"]+)"', m.group(1)) + [m.group(2)]:
        alias[name] = m.group(2)
# Short forms citizens write.
for short, kind in {
    "城管": "城管局", "交警": "交警大队", "派出所": "公安局", "公安": "公安局", "物业": "物业公司",
    "环保": "生态环境局", "社保": "人社局", "人社": "人社局", "劳动监察": "人社局",
    "教育部门": "教育局", "医保": "医保局", "卫健": "卫健委", "卫生部门": "卫健委", "国土": "自然资源局",
    "规划部门": "自然资源局", "住建": "住建局", "房管": "房管局", "供电": "供电公司",
    "自来水": "自来水公司", "市场监管": "市场监督管理局", "工商": "市场监督管理局", "运管": "交通运输局",
    "交通部门": "交通运输局", "民政": "民政局", "街道办": "属地政府", "镇政府": "属地政府",
    "居委会": "属地政府", "村委": "属地政府",
}.items():
    alias.setdefault(short, kind)
# Words of addresses and of any government, which name no kind.
for word in ["政府", "党委", "社区", "街道", "办事处", "管委会", "管理委员会", "两委", "委办公室",
             "各级政府", "人民政府", "党委政府"]:
    alias.pop(word, None)
names = re.compile("|".join(map(re.escape, sorted(alias, key=len, reverse=True))))

rows = [json.loads(l) for f in ("train.jsonl", "dev.jsonl") for l in open(f"{split}/{f}", encoding="utf-8")]
fired = right = 0
by_kind = collections.defaultdict(lambda: [0, 0])
for r in rows:
    named = collections.Counter(alias[m.group(0)] for m in names.finditer((r.get("title") or "") + "。" + r["text"]))
    if not named:
        continue
    kind = named.most_common(1)[0][0]
    ok = kind == r["category"]
    fired += 1
    right += ok
    by_kind[kind][0] += 1
    by_kind[kind][1] += ok
print(f"{len(rows)} older messages whose reply names an office; the rule fires on {fired}, "
      f"right on {right}: precision {right / max(fired, 1):.3f}")
for kind, (n, ok) in sorted(by_kind.items(), key=lambda x: -x[1][0]):
    print(f"  {kind}\t{n}\t{ok}\t{ok / n:.2f}")
