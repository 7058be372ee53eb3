#!/usr/bin/env bash
# Vocabulary at equal compute: pretrains the tiny shape from scratch twice for the same wall time,
# once with bert-base-uncased (30,522 pieces) and once with a 16,000-piece WordPiece vocabulary
# trained on the corpus by `fewshot vocab`, then benchmarks both few-shot (K=16, head and prompt).
#   research/pretrain/vocab-compute-match.sh WORK_DIR [MINUTES] [SEEDS] [MAX_TEST]
# e.g. research/pretrain/vocab-compute-match.sh /work/fewshot-pretrain/vocab16k 15 3 200
# Run it alone: a second PyTorch process on the same cores halves both runs' speed.
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=$1
MINUTES=${2:-15}   # wall time of each pretraining run
SEEDS=${3:-3}      # few-shot seeds per dataset
MAX_TEST=${4:-200} # test rows per dataset
PY=${PYTHON:-python3}
BASE=public/models/fewshot-tiny # tiny shape and tokenizer files; its weights are not used (no --init)
mkdir -p "$WORK"

# 1. the 16,000 vocabulary, and both corpora packed to length 128 with our reader and tokenizer
[ -f "$WORK/v16k.txt" ] || node bin/fewshot.js vocab --corpus ../shared/data/corpus --out "$WORK/v16k.txt" --vocab-size 16000
[ -f "$WORK/corpus16k-128.u16" ] || npx tsx research/pretrain/count-tokens.ts --vocab "$WORK/v16k.txt" --max-len 128 \
  --out "$WORK/corpus16k-128.u16" ../shared/data/corpus
[ -f "$WORK/corpus30k-128.u16" ] || npx tsx research/pretrain/count-tokens.ts --vocab "$BASE/vocab.txt" --max-len 128 \
  --out "$WORK/corpus30k-128.u16" ../shared/data/corpus

# 2. template folders: the tiny config with the vocabulary size of each
for v in 16k 30k; do
  mkdir -p "$WORK/tpl$v"
  cp "$BASE/special_tokens_map.json" "$BASE/tokenizer_config.json" "$WORK/tpl$v/"
done
cp "$BASE/vocab.txt" "$BASE/config.json" "$WORK/tpl30k/"
cp "$WORK/v16k.txt" "$WORK/tpl16k/vocab.txt"
sed 's/"vocab_size": 30522/"vocab_size": 16000/' "$BASE/config.json" > "$WORK/tpl16k/config.json"

# 3. per vocabulary: a 40-step probe measures steps/s, so the linear decay of the real run is
#    planned to end at MINUTES; then the run itself (sin/cos positions from step 0, same seed)
for v in 30k 16k; do
  common=(--sequences "$WORK/corpus$v-128.u16" --template "$WORK/tpl$v" --batch-size 32 --lr 1e-3 --whole-word
    --dropout 0 --position-init sinusoidal --seed 21 --held-out 256 --held-out-every 100)
  "$PY" research/pretrain/torch_pretrain.py "${common[@]}" --out "$WORK/probe$v" --steps 40 --warmup 10 --eval-every 0
  # speed from the per-step times of the probe's log, which leave out its start-up and evaluations
  steps=$("$PY" -c "import json; t = [json.loads(l)['time'] for l in open('$WORK/probe$v/pretrain_log.jsonl') if '\"lr\"' in l]
print(int((len(t) - 10) / (t[-1] - t[9]) * $MINUTES * 60 * 0.95))")  # steps 10..40; 5 % left for evaluations
  echo "vocab $v: planning $steps steps for $MINUTES minutes" >&2
  "$PY" research/pretrain/torch_pretrain.py "${common[@]}" --out "$WORK/run$v" --steps "$steps" --warmup 300 \
    --eval-every 500 --minutes "$MINUTES" 2> "$WORK/run$v.log"
done

# 4. few-shot, same protocol for both: WORK/bench-<vocab>-<dataset>.json
for v in 30k 16k; do
  DATASETS="sst2 ag_news" METHODS=prompt,head research/pretrain/bench-default.sh "$WORK/run$v" "$WORK/bench-$v" "$SEEDS" "$MAX_TEST"
done
