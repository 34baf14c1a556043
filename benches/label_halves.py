#!/usr/bin/env python3
"""Do the labels of rounds 2 and 3 help, on texts whose grades no model saw? Held out by halves:
a profile's new labels (data/labels/urgency/annotations.jsonl after its first 1,500 lines,
round 1) are cut in two by SHA-256 of their id (even: half 1, odd: half 2). Three models are
trained by the shipped recipe without folds (`tousu split` as models/build.sh runs it,
`tousu train` with the hyper-parameters of the command on the shipped model's card): h0 on
round 1's labels alone, h1 with half 1's too, h2 with half 2's. h0 and h2 are judged by `tousu eval` on half 1's grades, h0 and h1 on half 2's. Every
model sees the held-out half's texts with their categories (TipDM and COCC rows have one), never
their grades.

    python3 benches/label_halves.py telecom     (or gov; needs the release build and ../shared/datasets)

Prints grade macro-F1 (rules included), the model alone, and 重大 recall / precision. Work
files go to /tmp/tousu-label-halves/PROFILE. About 5 minutes for telecom, 15 for gov.
"""
import hashlib
import json
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.join(here, "..")
datasets = os.environ.get("TOUSU_DATASETS", os.path.join(root, "../shared/datasets"))
tousu = os.environ.get("TOUSU_BIN", os.path.join(root, "target/release/tousu"))
ROUND_1 = 1500
# As models/build.sh: the split's data of each profile.
SPLIT = {
    "telecom": ["--data", f"{datasets}/cocc/train.jsonl", "--data", f"{datasets}/cocc/dev.jsonl",
                "--data", f"{datasets}/urgency/labels.jsonl", "--source", "cocc",
                "--dev-ids", f"{datasets}/cocc/dev.jsonl"],
    "gov": ["--data", f"{datasets}/tipdm/train.jsonl", "--data", f"{datasets}/tipdm/hotspots.jsonl",
            "--data", f"{datasets}/urgency/labels.jsonl", "--source", "tipdm",
            "--source", "tipdm-hotspots", "--dev-fraction", "0.2"],
}
# Flags of the card's command that name files or folds, not the recipe.
NOT_RECIPE = {"--profile", "--train", "--dev", "--out", "--baseline-predictions", "--folds"}


def recipe(profile):
    """The shipped model's hyper-parameters: its card's `tousu train` command without the
    flags that name its files and folds."""
    card = open(os.path.join(root, f"models/{profile}/README.md")).read()
    words = next(line for line in card.splitlines() if line.startswith("tousu train ")).split()[2:]
    out, i = [], 0
    while i < len(words):
        if words[i] in NOT_RECIPE:
            i += 2
        else:
            out.append(words[i])
            i += 1
    return out


SOURCES = {"telecom": {"cocc"}, "gov": {"tipdm", "hotspots"}}


def run(*args):
    subprocess.run([tousu, *args], check=True, stdout=subprocess.DEVNULL)


def main(profile):
    out = f"/tmp/tousu-label-halves/{profile}"
    os.makedirs(out, exist_ok=True)
    lines = open(os.path.join(root, "data/labels/urgency/annotations.jsonl")).read().splitlines()
    old = lines[:ROUND_1]
    halves = {1: [], 2: []}
    for line in lines[ROUND_1:]:
        a = json.loads(line)
        if a["source"] in SOURCES[profile]:
            halves[1 + int(hashlib.sha256(a["id"].encode()).hexdigest(), 16) % 2].append(line)
    sets = {"h0": old, "h1": old + halves[1], "h2": old + halves[2], "all": lines}
    for name, ls in sets.items():
        with open(f"{out}/ann-{name}.jsonl", "w") as f:
            f.write("\n".join(ls) + "\n")
        run("split", *SPLIT[profile], "--annotations", f"{out}/ann-{name}.jsonl",
            "--out", f"{out}/split-{name}")
    for name in ("h0", "h1", "h2"):
        run("train", "--profile", profile, "--train", f"{out}/split-{name}/train.jsonl",
            "--dev", f"{out}/split-{name}/dev.jsonl", "--out", f"{out}/model-{name}",
            *recipe(profile))
    # Each half's graded rows, as the full split has them.
    for k in (1, 2):
        ids = {json.loads(line)["id"] for line in halves[k]}
        with open(f"{out}/half-{k}.jsonl", "w") as f:
            for part in ("train", "dev"):
                for line in open(f"{out}/split-all/{part}.jsonl"):
                    r = json.loads(line)
                    if r.get("id") in ids and r.get("grade"):
                        f.write(line)
    print(f"{profile}: {len(halves[1])} + {len(halves[2])} new labels")
    print("| judged on | model | grade macro-F1 | model alone | 重大 recall | 重大 precision |")
    print("|---|---|---|---|---|---|")
    for k, models in ((1, ("h0", "h2")), (2, ("h0", "h1"))):
        for m in models:
            g = json.loads(subprocess.run(
                [tousu, "eval", "--json", "--model", f"{out}/model-{m}", "--data",
                 f"{out}/half-{k}.jsonl"], check=True, capture_output=True, text=True).stdout)["grade"]
            print(f"| half {k} | {m} | {g['macro_f1']:.4f} | {g['model_only_macro_f1']:.4f} | "
                  f"{g['major_recall']:.3f} | {g['major_precision']:.3f} |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] in SPLIT else sys.exit(__doc__))
