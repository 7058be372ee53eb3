#!/usr/bin/env python3
"""The issue-21 table: SetFit per-seed JSONs (bench-setfit.sh) beside the zero-shot / prompt / head
runs of an earlier bench-default.sh prefix, restricted to the seeds SetFit ran (paired by seed).

  python3 research/pretrain/setfit-table.py research/fewshot-results/setfit-mini-k16 \
      research/fewshot-results/gpu-mini2 [sst2 sms_spam trec ag_news]

With "same" as the second prefix, the other methods come from the SetFit JSONs themselves (runs with
METHODS="setfit,head,prompt" in bench-setfit.sh).
"""
import glob
import json
import statistics
import sys


def fmt(xs):
    if not xs:
        return "—"
    m = 100 * statistics.mean(xs)
    s = 100 * statistics.stdev(xs) if len(xs) > 1 else 0.0
    return f"{m:.1f} ± {s:.1f}"


def main():
    setfit_prefix, other_prefix = sys.argv[1], sys.argv[2]
    datasets = sys.argv[3:] or ["sst2", "sms_spam", "trec", "ag_news"]
    methods = ["zeroshot", "prompt", "head"]
    print("| dataset | seeds | zero-shot | prompt | head | SetFit | SetFit − prompt | SetFit − head | "
          "s/run prompt | s/run head | s/run SetFit |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for d in datasets:
        every = []
        for f in sorted(glob.glob(f"{setfit_prefix}-{d}-s*.json")):
            every += json.load(open(f))["runs"]
        runs = [r for r in every if r["method"] == "setfit"]
        if not runs:
            continue
        seeds = sorted(r["seed"] for r in runs)
        if other_prefix == "same":
            other = [r for r in every if r["method"] != "setfit"]
        else:
            other = [r for r in json.load(open(f"{other_prefix}-{d}.json"))["runs"] if r["seed"] in seeds]
        acc = {m: [r["accuracy"] for r in sorted(other, key=lambda r: r["seed"]) if r["method"] == m]
               for m in methods}
        sec = {m: [r["seconds"] for r in other if r["method"] == m] for m in methods}
        sf = [r["accuracy"] for r in sorted(runs, key=lambda r: r["seed"])]
        paired = lambda m: 100 * statistics.mean(a - b for a, b in zip(sf, acc[m]))
        mean_s = lambda xs: f"{statistics.mean(xs):.0f}" if xs else "—"
        print(f"| {d} | {','.join(map(str, seeds))} | {fmt(acc['zeroshot'])} | {fmt(acc['prompt'])} | "
              f"{fmt(acc['head'])} | {fmt(sf)} | {paired('prompt'):+.1f} | {paired('head'):+.1f} | "
              f"{mean_s(sec['prompt'])} | {mean_s(sec['head'])} | {mean_s([r['seconds'] for r in runs])} |")
        plans = {json.dumps(r["plan"], sort_keys=True) for r in runs}
        print(f"<!-- {d} SetFit plans: {' / '.join(plans)} -->")


if __name__ == "__main__":
    main()
