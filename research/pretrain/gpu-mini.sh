#!/usr/bin/env bash
# BERT-mini (4 layers, hidden 256, 4 heads; bert-base-uncased vocabulary) pretrained from scratch on
# one CUDA GPU within a fixed time: three runs side by side (a model this small leaves much of an
# H200 idle: measured, three at once read 2.2 M tokens/s together, one alone 1.7 M), then the two
# candidates are packed for the trip back. research/PRETRAINING-LOG.md, "BERT-mini on a GPU", is its run.
#   research/pretrain/gpu-mini.sh DATA_DIR OUT_DIR [MINUTES]
# DATA_DIR: corpus30k-128.u16 (+ .json) from count-tokens.ts --out, mini-shape/ (config.json with the
# mini shape and the tokenizer files of public/models/fewshot-tiny), salient_words.txt (written by an
# earlier --salient-prob run). OUT_DIR receives mini.tar split in 15 MB parts and summary.txt.
# AMP= (empty) runs without bfloat16 autocast, e.g. to try the script on a CPU with a tiny MINUTES.
set -uo pipefail
cd "$(dirname "$0")/../.."
DATA=$1
OUT=$2
MINUTES=${3:-6.5} # training time of each run; the linear decay ends there (--time-decay)
WORK=${WORK:-/tmp/gpu-mini}
mkdir -p "$WORK" "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())"
common=(--sequences "$DATA/corpus30k-128.u16" --template "$DATA/mini-shape" --steps 100000000
  --batch-size 256   # 32,768 token slots a step
  --warmup 500       # steps of linear warmup, then linear decay to 0 at the time limit
  --whole-word ${AMP---amp} --minutes "$MINUTES" --time-decay --keep-best --eval-every 500 --threads 4 --seed 42)
RUNS=() # the run names, in the order started
run() {
  local name=$1
  shift
  RUNS+=("$name")
  PYTHONUNBUFFERED=1 python3 research/pretrain/torch_pretrain.py "${common[@]}" --out "$WORK/$name" "$@" >"$WORK/$name.log" 2>&1 &
}
run plain-lr1e-3 --lr 1e-3
run plain-lr5e-4 --lr 5e-4
run salient-lr1e-3 --lr 1e-3 --salient-prob 0.8 --salient-list "$DATA/salient_words.txt"
wait
for name in "${RUNS[@]}"; do
  echo "== $name"
  grep -E 'held-out|time limit|Error|error' "$WORK/$name.log" | tail -4
done
# Keep the plain run with the lower best held-out loss, and the salient run (64 MB come back at most).
python3 - "$WORK" "${RUNS[@]}" >"$WORK/summary.txt" <<'PY'
import json, sys, os
work = sys.argv[1]
rows = {}
for name in sys.argv[2:]:
    path = os.path.join(work, name, 'pretrain_summary.json')
    if not os.path.exists(path):
        print(name, 'no summary'); continue
    s = json.load(open(path))
    rows[name] = s
    h = s['heldOut']
    print(name, 'steps', s['steps'], 'tokens', s['tokens'], 'tok/s', s['tokensPerSecond'], 'epochs', round(s['epochs'], 2),
          'best step', s.get('exportedStep'), 'held-out', round(h['loss'], 4), round(h['accuracy'], 4),
          'salient', round(h.get('salientAccuracy', -1), 4), 'last', round(s['lastHeldOut']['loss'], 4))
plain = [n for n in rows if n.startswith('plain')]
keep = sorted(plain, key=lambda n: rows[n]['heldOut']['loss'])[:1] + [n for n in rows if n.startswith('salient')]
print('KEEP', ' '.join(keep))
PY
cat "$WORK/summary.txt"
keep=$(grep '^KEEP' "$WORK/summary.txt" | cut -d' ' -f2-)
# The exported folders load in Hugging Face transformers (fill-mask on the GPU machine).
for name in $keep; do
  python3 - "$WORK/$name" <<'PY' 2>&1 | grep -v Warning | tail -6
import sys
from transformers import AutoTokenizer, BertForMaskedLM, pipeline
d = sys.argv[1]
model = BertForMaskedLM.from_pretrained(d).float().eval()
fill = pipeline('fill-mask', model=model, tokenizer=AutoTokenizer.from_pretrained(d))
for s in ('the capital of france is [MASK] .', 'paris is the capital of [MASK] .', 'he opened the [MASK] and walked in .'):
    print(d.split('/')[-1], s, [(r['token_str'], round(r['score'], 3)) for r in fill(s)])
PY
done
cp "$WORK/summary.txt" "$OUT/"
# The kept folders whole (their logs included); of the others, only the logs.
dropped=()
for name in "${RUNS[@]}"; do
  [[ " $keep " == *" $name "* ]] || dropped+=("$name/pretrain_log.jsonl")
done
(cd "$WORK" && tar cf - $keep *.log "${dropped[@]}") | split -b 15000000 - "$OUT/mini.tar.part-"
ls -la "$OUT"
