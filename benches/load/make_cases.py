#!/usr/bin/env python3
"""Writes N complaints as import JSONL (stdout), for load tests.

With ../shared/datasets present (or TOUSU_DATASETS), the texts are the real complaints there
(COCC work orders, TipDM messages with their replies, negative reviews), cycled to N and
numbered, so that the index sees a real vocabulary: search and similarity cost depend on how
words spread over documents. Without it, synthetic sentences written for this script (a much
narrower vocabulary: every query word hits a large share of the cases, the worst case for
similarity queries). Nothing is written into the repository. Seeded: the same N, same file.
Usage: python3 benches/load/make_cases.py 100000 > /tmp/cases.jsonl
       python3 benches/load/make_cases.py 40000 --bodies > /tmp/bodies.txt
With --bodies: request bodies for POST /v1/triage and /v1/cases instead, one JSON object a line
(text and channel, received now), the same texts in another order, for cases.lua.
"""
import json
import random
import sys

OPENINGS = ["客户来电反映，", "用户投诉称，", "市民留言：", "尊敬的领导：", "本人反映，", "业主反映，"]
PLACES = ["阳光花园小区", "滨江新城", "城东街道", "高新区", "火车站附近", "人民路", "幸福村", "学府路", "星沙镇", "锦绣家园"]
PROBLEMS = [
    "家庭宽带频繁断网，每天晚上基本无法上网，光猫指示灯闪红，已报修两次无人上门",
    "话费账单中出现一笔不知情的视频彩铃费用，从未订购也没有收到确认短信",
    "小区门外的空地被改成临时停车场，夜里大货车进出，噪音很大还占用消防通道",
    "办理携号转网时被告知有未结清的合约，营业员要求再等三个月，认为是故意刁难",
    "培训机构突然关门，老板联系不上，已缴纳的学费无法退还，很多家长遇到同样问题",
    "手机在家中信号很弱，通话经常中断，上网速度很慢，邻居也是同样的情况",
    "小区物业私自提高停车费，业委会没有召开业主大会就通过了收费方案",
    "道路施工围挡占用人行道两个多月，行人只能走机动车道，存在安全隐患",
    "楼下餐馆油烟直排，窗户都不敢开，多次向城管反映没有结果",
    "公积金贷款审批迟迟没有结果，工作人员让反复提交材料，已经耽误了购房",
]
DEMANDS = [
    "要求尽快派人上门处理并减免相关费用。",
    "要求查明原因，退还所有不知情扣费。",
    "恳请有关部门尽快调查处理，给居民一个答复。",
    "如不处理将向工信部和市场监管部门投诉。",
    "希望相关部门介入，保障我们的合法权益，谢谢。",
]
CHANNELS = ["phone", "web", "app", "wechat", "hotline_12345"]


def real_rows():
    import os
    root = os.environ.get("TOUSU_DATASETS") or os.path.join(
        os.path.dirname(__file__), "..", "..", "..", "shared", "datasets")
    files = ["cocc/train.jsonl", "cocc/dev.jsonl", "tipdm/train.jsonl",
             "tipdm/replies-history.jsonl", "tipdm/hotspots.jsonl", "reviews/reviews.jsonl"]
    rows = []
    for f in files:
        path = os.path.join(root, f)
        if not os.path.exists(path):
            return []
        for line in open(path, encoding="utf-8"):
            r = json.loads(line)
            if r.get("negative") is False:
                continue
            row = {"text": r["text"][:2000]}
            if r.get("title"):
                row["title"] = r["title"]
            if r.get("resolution"):
                row["resolution"] = r["resolution"][:2000]
            rows.append(row)
    return rows


def bodies(n: int, real: list) -> None:
    rng = random.Random(11)
    texts = [r["text"] for r in real] or [
        rng.choice(OPENINGS) + f"我住在{rng.choice(PLACES)}，" + rng.choice(PROBLEMS) + "，"
        + rng.choice(DEMANDS) for _ in range(1000)]
    rng.shuffle(texts)
    for i in range(n):
        body = {"text": texts[i % len(texts)] + f"（来电{i:07d}）", "channel": rng.choice(CHANNELS)}
        sys.stdout.write(json.dumps(body, ensure_ascii=False) + "\n")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rng = random.Random(7)
    out = sys.stdout
    real = real_rows()
    if "--bodies" in sys.argv:
        bodies(n, real)
        return
    if real:
        sys.stderr.write(f"{len(real)} real texts from the datasets, cycled to {n}\n")
        for i in range(n):
            row = dict(real[i % len(real)])
            row["text"] = row["text"] + f"（编号{i:07d}）"
            row["channel"] = rng.choice(CHANNELS)
            day = 1 + i * 28 // n
            row["received_at"] = f"2026-10-{day:02d}T{rng.randint(8, 20):02d}:{rng.randint(0, 59):02d}:00+08:00"
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    sys.stderr.write("no datasets found: synthetic texts\n")
    for i in range(n):
        place = rng.choice(PLACES)
        text = (
            rng.choice(OPENINGS)
            + f"我住在{place}，"
            + rng.choice(PROBLEMS)
            + f"，从{rng.randint(1, 28)}号开始已经持续了{rng.randint(2, 30)}天，"
            + rng.choice(PROBLEMS)
            + "，另外"
            + rng.choice(PROBLEMS)
            + "，"
            + rng.choice(DEMANDS)
            + f"工单编号{i:07d}。"
        )
        day = 1 + i * 28 // n
        row = {
            "text": text,
            "channel": rng.choice(CHANNELS),
            "received_at": f"2026-10-{day:02d}T{rng.randint(8, 20):02d}:{rng.randint(0, 59):02d}:00+08:00",
        }
        if rng.random() < 0.3:
            row["resolution"] = "经核实，已安排工作人员上门处理，问题已解决，感谢您的监督。"
        out.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
