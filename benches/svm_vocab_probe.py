#!/usr/bin/env python3
"""Does the TF-IDF + SVM floor need its whole vocabulary? The baseline's SVM (char 1-3,
LinearSVC) over the same 5 folds as `tousu train --folds 5`, with fewer n-grams: those in at
least MIN_DF training texts, optionally only the MAX most frequent. Prints one line per
setting: min_df, max_features, n-grams in the last fold, out-of-fold category macro-F1.

    python3 benches/svm_vocab_probe.py /tmp/tousu-splits/gov      (after models/build.sh)
"""
import sys

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.svm import LinearSVC

from baseline_svm import fold_of, key, out_of_fold, rows, text

SETTINGS = [(1, None), (2, None), (2, 51000), (2, 40000), (3, None)]


def main(split):
    labelled = [r for r in rows(f"{split}/train.jsonl") + rows(f"{split}/dev.jsonl") if r.get("category")]
    texts = [text(r) for r in labelled]
    truth = [r["category"] for r in labelled]
    fold = [fold_of(key(r), 5) for r in labelled]
    for min_df, max_features in SETTINGS:
        width = []

        def fit_predict(train, test):
            vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True,
                                  min_df=min_df, max_features=max_features)
            x = vec.fit_transform([texts[i] for i in train])
            width.append(x.shape[1])
            svm = LinearSVC(C=1.0).fit(x, [truth[i] for i in train])
            return svm.predict(vec.transform([texts[i] for i in test]))

        predicted = out_of_fold(fold, 5, fit_predict)
        print(min_df, max_features, width[-1], round(f1_score(truth, predicted, average="macro"), 4),
              flush=True)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
