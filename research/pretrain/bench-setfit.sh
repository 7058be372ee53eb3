#!/usr/bin/env bash
# SetFit at K=16 (or K=$K; with METHODS="setfit,head,prompt" the other methods on the same split too)
# (LM-BFF protocol, as bench-default.sh) breadth-first: seed s on every dataset before
# seed s+1, one `fewshot bench-fewshot` run and one JSON per (dataset, seed), so a run stopped early
# still leaves whole seeds on every dataset. Skips files that exist; stops launching after CUTOFF.
# VERBALIZER=FILE passes a JSON verbalizer to prompt/zeroshot (banking77: banking77-verbalizer.json,
# the studio's label-name words plus two by hand where no name word is free).
#   [DATASETS="sst2 trec"] [CUTOFF=04:33] research/pretrain/bench-setfit.sh MODEL_DIR OUT_PREFIX [SEEDS] [MAX_TEST]
# e.g. research/pretrain/bench-setfit.sh public/models/fewshot-mini research/fewshot-results/setfit-mini-k16 5 300
#   -> OUT_PREFIX-<dataset>-s<seed>.json
set -euo pipefail
cd "$(dirname "$0")/../.."
MODEL=$1
PREFIX=$2
SEEDS=${3:-5}
MAX_TEST=${4:-300}
DATASETS=${DATASETS:-sst2 sms_spam trec ag_news} # folders under ../shared/data/datasets, cheapest first
K=${K:-16}                                       # labeled examples per class
METHODS=${METHODS:-setfit}                       # bench-fewshot --methods
VERBALIZER=${VERBALIZER:-}                       # JSON file for --verbalizer (default: built-in per dataset)
CUTOFF=${CUTOFF:+$(date -d "$CUTOFF" +%s)}
mkdir -p "$(dirname "$PREFIX")"
for seed in $(seq 1 "$SEEDS"); do
  for d in $DATASETS; do
    f=$PREFIX-$d-s$seed.json
    [ -e "$f" ] && continue
    if [ -n "$CUTOFF" ] && [ "$(date +%s)" -gt "$CUTOFF" ]; then
      echo "cutoff reached before $d seed $seed"
      exit 0
    fi
    echo "=== $(date +%T) $d seed $seed"
    start=$(date +%s)
    nice -n 19 node bin/fewshot.js bench-fewshot --data ../shared/data/datasets/$d --k "$K" --first-seed "$seed" \
      --seeds 1 --methods "$METHODS" --model "$MODEL" --max-test "$MAX_TEST" --out "$f" \
      ${VERBALIZER:+--verbalizer "$(cat "$VERBALIZER")"}
    echo "=== wall $(($(date +%s) - start)) s"
  done
done
