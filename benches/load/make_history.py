#!/usr/bin/env python3
"""Writes N complaints as import JSONL (stdout) with a desk's handling history, for the handling
load test (benches/load/handling.sh): received evenly over the two years up to now; cases older
than 30 days ended (92 % closed with a 回访 result, 3 % closed abnormally, 5 % withdrawn), newer
ones open (15 % triaged, 20 % assigned, 40 % handling, 25 % replied), with the times that meet
their deadlines (`accepted_at`, `resolved_at`, `closed_at`; 10 % of the ended ones late), and
300 handlers. Texts as make_cases.py (the data sets' complaints when present). Seeded.
Usage: python3 benches/load/make_history.py 1000000 > /tmp/history.jsonl
"""
import datetime as dt
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(__file__))
from make_cases import CHANNELS, DEMANDS, OPENINGS, PLACES, PROBLEMS, real_rows  # noqa: E402

BEIJING = dt.timezone(dt.timedelta(hours=8))
SATISFACTION = ["满意"] * 7 + ["基本满意"] * 2 + ["不满意"]


def stamp(t: dt.datetime) -> str:
    return t.astimezone(BEIJING).isoformat(timespec="seconds")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    rng = random.Random(5)
    real = real_rows()
    texts = [r["text"] for r in real] or [
        rng.choice(OPENINGS) + f"我住在{rng.choice(PLACES)}，" + rng.choice(PROBLEMS) + "，"
        + rng.choice(DEMANDS) for _ in range(2000)]
    sys.stderr.write(f"{len(texts)} texts, {n} cases over two years\n")
    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=10)
    span = dt.timedelta(days=730)
    out = sys.stdout
    for i in range(n):
        received = now - span + span * (i / n)
        age = now - received
        row = {
            "text": texts[i % len(texts)] + f"（编号{i:07d}）",
            "channel": rng.choice(CHANNELS),
            "received_at": stamp(received),
        }
        late = rng.random() < 0.1
        accepted = received + dt.timedelta(hours=rng.uniform(0.2, 30 if late else 6))
        replied = received + dt.timedelta(days=rng.uniform(0.5, 9 if late else 4))
        closed = replied + dt.timedelta(days=rng.uniform(0.5, 8 if late else 3))
        if age > dt.timedelta(days=30):
            u = rng.random()
            status = "closed" if u < 0.92 else "closed_abnormally" if u < 0.95 else "withdrawn"
        else:
            u = rng.random()
            status = ("triaged" if u < 0.15 else "assigned" if u < 0.35
                      else "handling" if u < 0.75 else "replied")
        row["status"] = status
        if status != "triaged":
            row["assignee"] = f"handler{rng.randrange(300):03d}"
        if status in ("handling", "replied", "closed", "closed_abnormally"):
            row["accepted_at"] = stamp(accepted)
        if status in ("replied", "closed", "closed_abnormally"):
            row["resolution"] = "经核实，已安排工作人员处理，问题已解决，感谢您的监督。"
            row["resolved_at"] = stamp(replied)
        if status in ("closed", "closed_abnormally", "withdrawn"):
            row["closed_at"] = stamp(closed if status != "withdrawn" else accepted)
        if status == "closed":
            row["satisfaction"] = rng.choice(SATISFACTION)
        out.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
