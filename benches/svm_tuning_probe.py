#!/usr/bin/env python3
"""How far does tuning move the TF-IDF + SVM floor? The baseline's SVM (char n-grams,
LinearSVC) over the same 5 folds as `tousu train --folds 5`, with other n-gram ranges, fewer
n-grams (MIN_DF), another cost C and balanced class weights. Prints one line per setting:
n-gram range, min_df, C, class weights, out-of-fold category macro-F1. A setting chosen by
these figures is chosen on the folds it is judged on (slightly optimistic).

    python3 benches/svm_tuning_probe.py /tmp/tousu-splits/gov      (after models/build.sh)
"""
import itertools
import sys

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.svm import LinearSVC

from baseline_svm import fold_of, key, out_of_fold, rows, text

NGRAMS = [(1, 3), (1, 4), (2, 4)]
MIN_DF = [2, 3, 5]
COSTS = [0.3, 1.0]
CLASS_WEIGHTS = [None, "balanced"]


def main(split):
    labelled = [r for r in rows(f"{split}/train.jsonl") + rows(f"{split}/dev.jsonl") if r.get("category")]
    texts = [text(r) for r in labelled]
    truth = [r["category"] for r in labelled]
    fold = [fold_of(key(r), 5) for r in labelled]
    for ngrams, min_df, c, weights in itertools.product(NGRAMS, MIN_DF, COSTS, CLASS_WEIGHTS):
        def fit_predict(train, test):
            vec = TfidfVectorizer(analyzer="char", ngram_range=ngrams, sublinear_tf=True,
                                  min_df=min_df)
            x = vec.fit_transform([texts[i] for i in train])
            svm = LinearSVC(C=c, class_weight=weights).fit(x, [truth[i] for i in train])
            return svm.predict(vec.transform([texts[i] for i in test]))

        predicted = out_of_fold(fold, 5, fit_predict)
        print(ngrams, min_df, c, weights or "none",
              round(f1_score(truth, predicted, average="macro"), 4), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
