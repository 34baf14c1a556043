#!/usr/bin/env python3
"""What do the grade rules add to a linear model of the grades? The TF-IDF + LinearSVC and
logistic regression of the grades (the baseline's features, the same 5 folds as `tousu train
--folds 5`), out of fold, alone and raised by the profile's grade rules as triage raises the
model's grade: the final grade is the higher of the model's and the highest grade a rule fired
for. The rules fired on each graded text are read from `tousu triage` (one process per text:
a few minutes; cached in rule-grades.jsonl beside the split).
    python3 benches/grade_rules_probe.py /tmp/tousu-splits/telecom telecom
(after models/build.sh made the splits; TOUSU_BIN names the build, default
target/release/tousu.)
"""
import json
import os
import subprocess
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, precision_score, recall_score
from sklearn.svm import LinearSVC

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from baseline_svm import fold_of, key, out_of_fold, rows, text, tfidf  # noqa: E402

FOLDS = 5
ORDER = {"一般": 0, "严重": 1, "重大": 2}
GRADES = list(ORDER)

if len(sys.argv) != 3:
    sys.exit(__doc__)
splits, profile = sys.argv[1], sys.argv[2]
tousu = os.environ.get("TOUSU_BIN", os.path.join(here, "../target/release/tousu"))
R = [r for r in rows(f"{splits}/train.jsonl") + rows(f"{splits}/dev.jsonl") if r.get("grade")]
cache = f"{splits}/rule-grades.jsonl"
seen = {}
if os.path.exists(cache):
    seen = {d["key"]: d["rules"] for d in map(json.loads, open(cache, encoding="utf-8"))}
with open(cache, "a", encoding="utf-8") as out:
    for r in R:
        if key(r) in seen:
            continue
        args = [tousu, "triage", "--compact", "--profile", profile]
        if r.get("title"):
            args += ["--title", r["title"]]
        answer = subprocess.run(args + [r["text"]], capture_output=True, text=True,
                                cwd=os.path.join(here, ".."), check=True).stdout
        seen[key(r)] = [x["grade"] for x in json.loads(answer)["grade"]["rules"]]
        out.write(json.dumps({"key": key(r), "rules": seen[key(r)]}, ensure_ascii=False) + "\n")

y = np.array([r["grade"] for r in R])
T = [text(r) for r in R]
fold = np.array([fold_of(key(r), FOLDS) for r in R])
floor = [max((ORDER[g] for g in seen[key(r)]), default=0) for r in R]


def scores(pred):
    f1 = f1_score(y, pred, average="macro")
    p = precision_score(y, pred, labels=["重大"], average="macro", zero_division=0)
    rc = recall_score(y, pred, labels=["重大"], average="macro")
    return f"{f1:.4f} | {p:.3f} / {rc:.3f}"


print(f"{len(R)} graded rows of {splits}, {FOLDS}-fold cross-validated")
print(f"rules alone (一般 where none fires): {scores(np.array([GRADES[f] for f in floor]))}")
print("| learner | alone: macro-F1, 重大 P / R | with the rules: macro-F1, 重大 P / R |")
print("|---|---|---|")
for name, model in (
    ("LinearSVC C=1, balanced", lambda: LinearSVC(C=1.0, class_weight="balanced")),
    ("logistic regression C=10, balanced",
     lambda: LogisticRegression(C=10, class_weight="balanced", max_iter=3000)),
):
    def fit_predict(tr, te, model=model):
        _, X, Xt = tfidf(T, tr, te)
        return model().fit(X, y[tr]).predict(Xt)

    alone = np.array(out_of_fold(fold, FOLDS, fit_predict), dtype=object)
    raised = np.array([GRADES[max(ORDER[a], f)] for a, f in zip(alone, floor)])
    print(f"| {name} | {scores(alone)} | {scores(raised)} |")
