#!/usr/bin/env python3
"""The classic baseline the models must beat: TF-IDF character 1-3-grams + linear SVM.

Trains on the category rows of TRAIN, predicts the category of every DEV row and writes
`{"id", "category"}` JSON Lines to OUT, so that `tousu eval --predictions OUT --data DEV` (and
`tousu train --baseline-predictions OUT`) score it with exactly the model's metrics code.

    pip install scikit-learn
    python3 benches/baseline_svm.py TRAIN.jsonl DEV.jsonl OUT.jsonl

The text is title + "。" + text, as the model sees it.
"""
import json
import sys

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC


def rows(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def text(r):
    return f"{r['title']}。{r['text']}" if r.get("title") else r["text"]


def main(train_path, dev_path, out_path):
    train = [r for r in rows(train_path) if r.get("category")]
    dev = [r for r in rows(dev_path) if r.get("category")]
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    svm = LinearSVC(C=1.0).fit(vec.fit_transform([text(r) for r in train]), [r["category"] for r in train])
    predicted = svm.predict(vec.transform([text(r) for r in dev]))
    with open(out_path, "w", encoding="utf-8") as f:
        for r, c in zip(dev, predicted):
            f.write(json.dumps({"id": r["id"], "category": str(c)}, ensure_ascii=False) + "\n")
    print(f"{len(dev)} predictions -> {out_path}", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
