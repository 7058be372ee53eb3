#!/usr/bin/env bash
# Pretrains the embedded default model (BERT-tiny shape: 2 layers, hidden 128, 2 heads; see
# research/PRETRAINING-LOG.md for the token budget) on ../shared/data/corpus with the bert-base-uncased
# vocabulary.
#
#   research/pretrain/pretrain-default.sh            # start (or resume, if OUT has a checkpoint)
#   OUT=/tmp/other STEPS=200 research/pretrain/pretrain-default.sh
#
# Ctrl-C (SIGINT) or SIGTERM saves a checkpoint and exits 130; running the script again resumes
# exactly where it stopped (same losses as an uninterrupted run). A crash loses at most
# --checkpoint-every-minutes of work.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-$HOME/fewshot-pretrain/default-tiny}  # outside the repository (checkpoints are large)
STEPS=${STEPS:-8000}
WARMUP=${WARMUP:-400}  # linear warmup steps (then linear decay to 0 at STEPS)
RESUME=()
if [ -f "$OUT/checkpoint.safetensors" ]; then RESUME=(--resume); fi
exec node bin/fewshot.js pretrain \
  --corpus ../shared/data/corpus \
  --out "$OUT" \
  --preset tiny --vocab ../shared/data/tokenizer/bert-base-uncased/vocab.txt \
  --steps "$STEPS" --batch-size 32 --max-len 128 \
  --lr 1e-3 --warmup "$WARMUP" --mask-prob 0.15 --whole-word --seed 42 \
  --held-out 256 --held-out-every 100 --eval-every 500 \
  --checkpoint-every-minutes 10 \
  --dtype f16 \
  "${RESUME[@]}"
