#!/usr/bin/env bash
# Rebuilds the shipped models from ../shared/datasets (never copied into the repository):
# dev splits, the TF-IDF + SVM baseline's dev predictions, then `tousu train` per profile.
#   bash models/build.sh            (needs: cargo, python3 with scikit-learn for the baseline)
set -euo pipefail
cd "$(dirname "$0")/.."
D=${TOUSU_DATASETS:-../shared/datasets}
S=${TOUSU_SPLITS:-/tmp/tousu-splits}
# The project's own grades (data/labels/urgency: ids, grades and the annotation passes; never
# texts) are joined onto the shared texts by id.
A=data/labels/urgency/annotations.jsonl
cargo build --release --quiet
T=${CARGO_TARGET_DIR:-target}/release/tousu
$T split --data $D/cocc/train.jsonl --data $D/cocc/dev.jsonl --data $D/urgency/labels.jsonl \
  --annotations $A --source cocc --dev-ids $D/cocc/dev.jsonl --out $S/telecom
$T split --data $D/tipdm/train.jsonl --data $D/tipdm/hotspots.jsonl --data $D/urgency/labels.jsonl \
  --annotations $A --source tipdm --source tipdm-hotspots --dev-fraction 0.2 --out $S/gov
# Hyper-parameters chosen on dev before (see docs/models.md): both weight classes by inverse
# frequency (macro-F1 counts 严重 as much as 重大); gov averages two 48-dimension models, as its
# larger vocabulary leaves less of the 20 MB budget per dimension. Both grade heads learn the
# guideline's reason codes, a grade being its best reason's (--grade-reasons: better grades by
# cross-validation for both profiles; docs/models.md).
# Each profile's model is cross-validated over 5 folds of train + dev (the SVM baseline on the
# same folds), then trained on all of them: the card reports the out-of-fold figures.
train() {
  p=$1; shift
  python3 benches/baseline_svm.py --folds 5 $S/$p/train.jsonl $S/$p/dev.jsonl $S/$p/baseline-cv.jsonl
  $T train --profile $p --train $S/$p/train.jsonl --dev $S/$p/dev.jsonl --out models/$p \
    --baseline-predictions $S/$p/baseline-cv.jsonl --balance-classes --folds 5 "$@"
}
# Both decide the category by a linear SVM over the same units (--category-svm 1: cost C 1,
# chosen by benches/svm_tuning_probe.py over the same folds; its classes balanced as the
# encoder's, by --balance-classes), the encoder serving the grade (docs/models.md). gov's
# weights are over 20 MB in f32 with its table and fit once halved, below.
train telecom --dim 128 --lr 0.003 --grade-reasons --category-svm 1
train gov --dim 48 --ensemble 2 --lr 0.006 --batch-size 64 --grade-reasons --category-svm 1
# gov ships its weights in f16 (10 MB; `tousu eval` gives the same figures in f16 as in f32), which
# leaves room in the profile's 20 MB for its dispatch model below.
$T halve-weights --model models/gov
# Dispatch (派单) for gov: which kind of office answers a message, learned from the department
# each resolved message's reply names (the older 80 % of the reply history; the newer 20 % is
# what `tousu eval-suggestions` measures it on). Its card is models/gov/dispatch/README.md.
$T dispatch-split --data $D/tipdm/replies-history.jsonl --out $S/gov-dispatch
$T train --profile gov-dispatch --profile-file data/profiles/gov-dispatch.toml \
  --train $S/gov-dispatch/train.jsonl --dev $S/gov-dispatch/dev.jsonl --out models/gov/dispatch \
  --balance-classes --dim 8 --ensemble 3 --max-weight-bytes 600000
$T halve-weights --model models/gov/dispatch
