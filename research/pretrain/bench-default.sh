#!/usr/bin/env bash
# Few-shot table for a model card: `fewshot bench-fewshot` (K=16, LM-BFF protocol) on sst2, trec,
# ag_news and sms_spam for one model folder; one JSON per dataset, OUT_PREFIX-<dataset>.json.
#   [DATASETS="sst2 trec"] [METHODS=prompt,head] research/pretrain/bench-default.sh MODEL_DIR OUT_PREFIX [SEEDS] [MAX_TEST]
# e.g. research/pretrain/bench-default.sh public/models/fewshot-mini research/fewshot-results/pretrained-mini 5 300
set -euo pipefail
cd "$(dirname "$0")/../.."
MODEL=$1
PREFIX=$2
SEEDS=${3:-5}
MAX_TEST=${4:-300}
DATASETS=${DATASETS:-sst2 trec ag_news sms_spam} # folders under ../shared/data/datasets
METHODS=${METHODS:-zeroshot,prompt,head}
mkdir -p "$(dirname "$PREFIX")"
for d in $DATASETS; do
  node bin/fewshot.js bench-fewshot --data ../shared/data/datasets/$d --k 16 --seeds "$SEEDS" \
    --methods "$METHODS" --model "$MODEL" --max-test "$MAX_TEST" --out "$PREFIX-$d.json"
done
