#!/usr/bin/env python3
"""Who a per-case page would wake, judged on the gov dev split: how often the cases that pass
the alert gate (final grade 重大, a `safety` or `external` rule fired, the model's probability of
重大 at least t) are labelled 重大, for several t. The model is trained on the train split only
(the shipped one saw dev), with the shipped model's hyper-parameters.

    bash models/build.sh            # once: makes the splits in /tmp/tousu-splits
    python3 benches/page_precision.py [--splits /tmp/tousu-splits/gov] [--tousu target/release/tousu]
"""
import argparse
import json
import os
import subprocess
import tempfile

ap = argparse.ArgumentParser()
ap.add_argument("--splits", default="/tmp/tousu-splits/gov")
ap.add_argument("--tousu", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release/tousu"))
ap.add_argument("--model", help="a model trained on the train split (skips training)")
a = ap.parse_args()

model = a.model
if not model:
    model = tempfile.mkdtemp(prefix="tousu-page-")
    subprocess.run([a.tousu, "train", "--profile", "gov", "--train", f"{a.splits}/train.jsonl",
                    "--dev", f"{a.splits}/dev.jsonl", "--out", model, "--balance-classes",
                    "--dim", "48", "--ensemble", "2", "--lr", "0.006", "--batch-size", "64",
                    "--grade-reasons"],
                   check=True, stdout=subprocess.DEVNULL)

rows = [json.loads(line) for line in open(f"{a.splits}/dev.jsonl")]
rows = [r for r in rows if r.get("grade")]
judged = []
for r in rows:
    cmd = [a.tousu, "triage", "--compact", "--model", model, "--profile", "gov"]
    if r.get("title"):
        cmd += ["--title", r["title"]]
    out = subprocess.run(cmd, input=r["text"], capture_output=True, text=True, check=True)
    judged.append((r, json.loads(out.stdout)["grade"]))


def p_major(g):
    m = g["model"]
    if m["label"] == "重大":
        return m["confidence"]
    return next((x["confidence"] for x in m["alternatives"] if x["label"] == "重大"), 0.0)


gated = [(r, g) for r, g in judged
         if g["label"] == "重大" and any(h["reason"] in ("safety", "external") for h in g["rules"])]
print(f"{len(rows)} graded dev rows; {len(gated)} graded 重大 with a safety or external rule")
print("| model P(重大) ≥ | pages | labelled 重大 | labelled 重大, reason safety/external |")
print("|---|---|---|---|")
for t in (0.0, 0.5, 0.7, 0.9):
    pages = [(r, g) for r, g in gated if p_major(g) >= t]
    n = max(len(pages), 1)
    major = sum(r["grade"] == "重大" for r, _ in pages)
    cause = sum(r["grade"] == "重大" and r.get("reason") in ("safety", "external") for r, _ in pages)
    print(f"| {t:.1f} | {len(pages)} | {major / n:.3f} | {cause / n:.3f} |")
