#!/usr/bin/env bash
# Rebuilds the shipped models from ../shared/datasets (never copied into the repository):
# dev splits, the TF-IDF + SVM baseline's dev predictions, then `tousu train` per profile.
#   bash models/build.sh            (needs: cargo, python3 with scikit-learn for the baseline)
set -euo pipefail
cd "$(dirname "$0")/.."
D=${TOUSU_DATASETS:-../shared/datasets}
S=${TOUSU_SPLITS:-/tmp/tousu-splits}
cargo build --release --quiet
T=target/release/tousu
$T split --data $D/cocc/train.jsonl --data $D/cocc/dev.jsonl --data $D/urgency/labels.jsonl \
  --source cocc --dev-ids $D/cocc/dev.jsonl --out $S/telecom
$T split --data $D/tipdm/train.jsonl --data $D/urgency/labels.jsonl \
  --source tipdm --dev-fraction 0.2 --out $S/gov
# Dimensions chosen on dev: 128 for telecom; 64 for gov, whose larger vocabulary would
# otherwise exceed the 20 MB weight budget.
for spec in telecom:128 gov:64; do
  p=${spec%%:*} dim=${spec#*:}
  python3 benches/baseline_svm.py $S/$p/train.jsonl $S/$p/dev.jsonl $S/$p/baseline.jsonl
  $T train --profile $p --train $S/$p/train.jsonl --dev $S/$p/dev.jsonl --out models/$p \
    --dim $dim --lr 0.003 --baseline-predictions $S/$p/baseline.jsonl
done
