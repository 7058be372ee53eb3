/**
 * The bundle's `train.py`: runs a training job (job.json) with Hugging Face transformers' Trainer,
 * on one GPU, under torchrun or under accelerate (docs/ARCHITECTURE.md, "Training jobs"). Kept here
 * as text so that the studio (in the browser) and the CLI write the same script. It must stay
 * valid Python 3.9+: a unit test compiles it and runs its `--dry-run`, which imports neither torch
 * nor transformers. No backticks or dollar-brace pairs in it (it is a template literal).
 */
export const TRAIN_PY = String.raw`#!/usr/bin/env python3
"""Run a FewShot Studio training job with Hugging Face transformers.

The job (job.json) holds the method, the label order, every hyperparameter of the run and the
starting model; data/ holds the exact train/dev split. See README.md for the three ways to run it:

    python train.py                                   # one GPU (or the CPU)
    torchrun --nproc_per_node 4 train.py              # several GPUs on one machine
    accelerate launch --config_file multi_node.yaml train.py   # several machines

python train.py --dry-run prints the resolved plan without importing torch or transformers.
The output folder loads back in FewShot Studio (drop it on the Model panel) and in
fewshot predict --model OUTPUT_DIR.
"""

import argparse
import csv
import inspect
import json
import math
import os
import re
import sys
import time

JOB_FORMAT = "fewshot-studio-training-job"
JOB_VERSION = 1
SLOT_RE = re.compile(r"\{([^{}]*)\}|\[MASK\]")
HERE = os.path.dirname(os.path.abspath(__file__))


class JobError(Exception):
    """A problem with the job, its data or the options: printed as one line, exit status 2."""


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Run a FewShot Studio training job with Hugging Face transformers.")
    p.add_argument("--job", default=os.path.join(HERE, "job.json"), help="the job spec (default: job.json next to this script)")
    p.add_argument("--train-file", help="train on this CSV instead of the bundle's data/train.csv (same columns; more rows welcome)")
    p.add_argument("--dev-file", help="evaluate on this CSV instead of the bundle's data/dev.csv")
    p.add_argument("--model", help="start from this model (Hub repo id or folder) instead of the job's")
    p.add_argument("--revision", help="Hub revision for --model (default: main)")
    p.add_argument("--output-dir", default=os.path.join(HERE, "output"), help="where the trained model goes (default: output/)")
    p.add_argument("--epochs", type=int, help="override the job's number of epochs")
    p.add_argument("--per-device-batch-size", type=int,
                   help="examples per step on each process (default: the job's batch size divided by the number of processes)")
    precision = p.add_mutually_exclusive_group()
    precision.add_argument("--fp16", action="store_true", help="mixed precision with float16 (NVIDIA GPUs)")
    precision.add_argument("--bf16", action="store_true", help="mixed precision with bfloat16 (Ampere or newer GPUs, recent CPUs)")
    p.add_argument("--dry-run", action="store_true", help="print the resolved plan and exit (imports neither torch nor transformers)")
    return p.parse_args(argv)


def load_job(path):
    try:
        with open(path, encoding="utf-8") as f:
            job = json.load(f)
    except FileNotFoundError:
        raise JobError(f"{path} was not found. Run train.py from the unzipped bundle or pass --job PATH.")
    except json.JSONDecodeError as e:
        raise JobError(f"{path} is not valid JSON ({e}). Export the job again from FewShot Studio.")
    if not isinstance(job, dict) or job.get("format") != JOB_FORMAT:
        raise JobError(f"{path} is not a FewShot Studio training job (format {job.get('format') if isinstance(job, dict) else None!r}).")
    version = job.get("version")
    if not isinstance(version, int) or version > JOB_VERSION:
        raise JobError(f"{path} is a version {version} job; this train.py reads versions up to {JOB_VERSION}. "
                       "Use the train.py that came in the same bundle as the job.")
    for key in ("method", "labels", "data", "maxLength", "epochs", "batchSize", "gradAccumSteps", "learningRate",
                "warmupRatio", "weightDecay", "adam", "maxGradNorm", "seed", "dropout", "classWeights", "evalEvery",
                "patience", "keepBestCheckpoint", "model"):
        if key not in job:
            raise JobError(f"{path} has no \"{key}\". Export the job again from FewShot Studio.")
    if job["method"] not in ("head", "prompt"):
        raise JobError(f"{path}: method {job['method']!r} is not supported by this train.py (head, prompt).")
    return job


def read_rows(path, job, what):
    """Rows of a CSV with the bundle's columns: text, optional text_pair, label."""
    if not os.path.isfile(path):
        raise JobError(f"The {what} file {path} was not found.")
    labels = job["labels"]
    rows = []
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        columns = reader.fieldnames or []
        for needed in ("text", "label"):
            if needed not in columns:
                raise JobError(f"{path} has no \"{needed}\" column (columns: {', '.join(columns)}). "
                               "The columns are text, label and, for sentence pairs, text_pair.")
        if job["data"].get("textPair") and "text_pair" not in columns:
            raise JobError(f"{path} has no \"text_pair\" column, but this job trains on sentence pairs.")
        for line, row in enumerate(reader, start=2):
            label = row.get("label")
            if label not in labels:
                raise JobError(f"{path} row {line}: label {label!r} is not one of the job's labels "
                               f"({', '.join(labels)}). Fix the row, or drop it.")
            pair = row.get("text_pair") if job["data"].get("textPair") else None
            rows.append({"text": row.get("text") or "", "text_pair": pair, "label": labels.index(label)})
    if what == "training" and not rows:
        raise JobError(f"{path} has no rows.")
    return rows


def resolve_model(job, args):
    """(name or path, revision, description) of the starting model."""
    if args.model:
        return args.model, args.revision, f"{args.model} (--model)"
    model = job["model"]
    if model.get("source") == "hub":
        return model["repo"], model["revision"], f"{model['repo']} at commit {model['revision']} (Hugging Face Hub)"
    if model.get("source") == "included":
        path = os.path.join(os.path.dirname(os.path.abspath(args.job)), model["path"])
        if not os.path.isfile(os.path.join(path, "config.json")):
            raise JobError(f"The job's weights should be in {path} but its config.json is missing. Unzip the whole bundle.")
        return path, None, f"{model['name']} included in the bundle ({model['bytes'] / 1e6:.1f} MB; from {model['origin']})"
    raise JobError(f"The job's model source {model.get('source')!r} is not supported by this train.py.")


def make_plan(job, args, n_train, n_dev):
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    batch = job["batchSize"]
    per_device = args.per_device_batch_size or max(1, batch // world_size)
    notes = []
    if not args.per_device_batch_size and batch % world_size != 0:
        notes.append(f"the job's batch size {batch} does not divide by {world_size} processes: "
                     f"{per_device} per process, {per_device * world_size} per step")
    accum = job["gradAccumSteps"]
    epochs = args.epochs or job["epochs"]
    steps_per_epoch = max(1, math.ceil(math.ceil(n_train / (per_device * world_size)) / accum))
    total = steps_per_epoch * epochs
    evaluate = n_dev > 0
    return {
        "method": job["method"],
        "labels": job["labels"],
        "trainRows": n_train,
        "devRows": n_dev,
        "processes": world_size,
        "perDeviceBatchSize": per_device,
        "gradAccumSteps": accum,
        "effectiveBatchSize": per_device * world_size * accum,
        "epochs": epochs,
        "stepsPerEpoch": steps_per_epoch,
        "totalSteps": total,
        "learningRate": job["learningRate"],
        "schedule": "linear warmup then linear decay to 0",
        "warmupSteps": math.ceil(total * job["warmupRatio"]),
        "weightDecay": job["weightDecay"],
        "maxGradNorm": job["maxGradNorm"],
        "maxLength": job["maxLength"],
        "seed": job["seed"],
        "dropout": job["dropout"],
        "classWeights": job["classWeights"],
        "evaluateEverySteps": job["evalEvery"] if evaluate else None,
        "keepBestCheckpoint": bool(job["keepBestCheckpoint"] and evaluate),
        "earlyStoppingPatience": job["patience"] if (job["patience"] > 0 and job["keepBestCheckpoint"] and evaluate) else 0,
        "precision": "fp16" if args.fp16 else "bf16" if args.bf16 else "fp32",
        "prompt": job.get("prompt"),
        "notes": notes,
    }


# ----------------------------------------------------------------------------------------------
# The prompt method: the same cloze rendering and verbalizer loss as FewShot Studio.
# ----------------------------------------------------------------------------------------------

def compile_template(template, tokenizer):
    parts = []
    last = 0
    for m in SLOT_RE.finditer(template):
        if m.start() > last:
            parts.append(("ids", tokenizer(template[last:m.start()], add_special_tokens=False)["input_ids"]))
        last = m.end()
        parts.append(("mask", None) if m.group(0) == "[MASK]" else ("slot", m.group(1).strip()))
    if last < len(template):
        parts.append(("ids", tokenizer(template[last:], add_special_tokens=False)["input_ids"]))
    return parts


def render_prompt(parts, tokenizer, text, text_pair, max_length):
    """[CLS] template-with-texts [SEP] ids and the mask position; only the texts are cut, longest first."""
    def ids_of(s):
        ids = tokenizer(s or "", add_special_tokens=False)["input_ids"]
        # A literal [MASK] typed in a text is not the cloze mask.
        return [tokenizer.unk_token_id if i == tokenizer.mask_token_id else i for i in ids]

    slots = {"text": ids_of(text), "text_pair": ids_of(text_pair)}
    uses = {"text": 0, "text_pair": 0}
    fixed = 2
    for kind, value in parts:
        if kind == "slot":
            uses[value] += 1
        else:
            fixed += len(value) if kind == "ids" else 1
    over = fixed + sum(uses[k] * len(slots[k]) for k in slots) - max_length
    while over > 0:
        key = "text" if len(slots["text"]) * uses["text"] >= len(slots["text_pair"]) * uses["text_pair"] else "text_pair"
        slots[key].pop()
        over -= uses[key]
    ids = [tokenizer.cls_token_id]
    mask_pos = -1
    for kind, value in parts:
        if kind == "ids":
            ids.extend(value)
        elif kind == "slot":
            ids.extend(slots[value])
        else:
            mask_pos = len(ids)
            ids.append(tokenizer.mask_token_id)
    ids.append(tokenizer.sep_token_id)
    return ids, mask_pos


def label_word_groups(job, tokenizer):
    """Per label, the vocabulary ids of its label words (first word piece, as FewShot Studio scores them)."""
    owner = {}
    groups = []
    for label in job["labels"]:
        ids = []
        for word in job["prompt"]["verbalizer"][label]:
            pieces = tokenizer(word, add_special_tokens=False)["input_ids"]
            if not pieces or tokenizer.unk_token_id in pieces:
                raise JobError(f"Label word {word!r} (label {label!r}) is not in the model's vocabulary.")
            if owner.get(pieces[0], label) != label:
                raise JobError(f"Label words of {owner[pieces[0]]!r} and {label!r} share the token {pieces[0]}.")
            owner[pieces[0]] = label
            if pieces[0] not in ids:
                ids.append(pieces[0])
        groups.append(ids)
    return groups


# ----------------------------------------------------------------------------------------------
# Training
# ----------------------------------------------------------------------------------------------

def train(job, args, plan, train_rows, dev_rows, model_name, revision, model_description):
    import numpy as np
    import torch
    import transformers
    from transformers import (AutoModelForMaskedLM, AutoModelForSequenceClassification, AutoTokenizer,
                              EarlyStoppingCallback, Trainer, TrainingArguments, set_seed)

    set_seed(job["seed"])
    labels = job["labels"]
    id2label = {i: label for i, label in enumerate(labels)}
    label2id = {label: i for i, label in enumerate(labels)}
    dropout = {} if job["dropout"] else {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}
    tokenizer = AutoTokenizer.from_pretrained(model_name, revision=revision)
    prompt = job["method"] == "prompt"
    if prompt:
        model = AutoModelForMaskedLM.from_pretrained(model_name, revision=revision, **dropout)
        parts = compile_template(job["prompt"]["template"], tokenizer)
        groups = label_word_groups(job, tokenizer)
    else:
        model = AutoModelForSequenceClassification.from_pretrained(
            model_name, revision=revision, num_labels=len(labels), id2label=id2label, label2id=label2id,
            ignore_mismatched_sizes=True, **dropout)

    def encode(rows):
        out = []
        for r in rows:
            if prompt:
                ids, mask_pos = render_prompt(parts, tokenizer, r["text"], r["text_pair"], job["maxLength"])
                out.append({"input_ids": ids, "token_type_ids": [0] * len(ids), "mask_pos": mask_pos, "labels": r["label"]})
            else:
                enc = tokenizer(r["text"], r["text_pair"], truncation=True, max_length=job["maxLength"])
                out.append({**{k: list(v) for k, v in enc.items()}, "labels": r["label"]})
        return out

    class Rows(torch.utils.data.Dataset):
        def __init__(self, rows):
            self.rows = encode(rows)

        def __len__(self):
            return len(self.rows)

        def __getitem__(self, i):
            return self.rows[i]

    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0

    def collate(batch):
        width = max(len(b["input_ids"]) for b in batch)
        def padded(key, fill):
            return torch.tensor([b[key] + [fill] * (width - len(b[key])) for b in batch], dtype=torch.long)
        out = {
            "input_ids": padded("input_ids", pad_id),
            "attention_mask": torch.tensor([[1] * len(b["input_ids"]) + [0] * (width - len(b["input_ids"])) for b in batch]),
            "labels": torch.tensor([b["labels"] for b in batch], dtype=torch.long),
        }
        if "token_type_ids" in batch[0]:
            out["token_type_ids"] = padded("token_type_ids", 0)
        if prompt:
            out["mask_pos"] = torch.tensor([b["mask_pos"] for b in batch], dtype=torch.long)
        return out

    class_weights = None
    if job["classWeights"] == "balanced" and not prompt:
        counts = np.bincount([r["label"] for r in train_rows], minlength=len(labels)).astype(np.float64)
        weights = np.where(counts > 0, len(train_rows) / (len(labels) * np.maximum(counts, 1)), 0.0)
        class_weights = torch.tensor(weights, dtype=torch.float32)

    class JobTrainer(Trainer):
        """Trainer with FewShot Studio's objectives: the verbalizer loss (prompt) or weighted cross-entropy."""

        def compute_loss(self, model, inputs, return_outputs=False, **kwargs):
            inputs = dict(inputs)
            target = inputs.pop("labels")
            if prompt:
                mask_pos = inputs.pop("mask_pos")
                logits = model(**inputs).logits  # [B, T, V]
                at_mask = logits[torch.arange(logits.shape[0], device=logits.device), mask_pos]  # [B, V]
                log_probs = torch.log_softmax(at_mask.float(), dim=-1)  # [B, V]
                # Per label: log of the mean probability of its words.
                scores = torch.stack([torch.logsumexp(log_probs[:, ids], dim=-1) - math.log(len(ids)) for ids in groups], dim=-1)  # [B, L]
            else:
                scores = model(**inputs).logits.float()  # [B, L]
            weight = class_weights.to(scores.device) if class_weights is not None else None
            loss = torch.nn.functional.cross_entropy(scores, target, weight=weight)
            return (loss, {"logits": scores}) if return_outputs else loss

    def compute_metrics(prediction):
        scores, gold = prediction
        if isinstance(scores, tuple):
            scores = scores[0]
        predicted = np.argmax(scores, axis=-1)
        f1s = []
        for k in range(len(labels)):
            tp = int(np.sum((predicted == k) & (gold == k)))
            fp = int(np.sum((predicted == k) & (gold != k)))
            fn = int(np.sum((predicted != k) & (gold == k)))
            f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
        return {"accuracy": float(np.mean(predicted == gold)), "macro_f1": float(np.mean(f1s))}

    evaluate = len(dev_rows) > 0
    # transformers 4.41 renamed evaluation_strategy to eval_strategy (the old name went in 4.46).
    eval_key = "eval_strategy" if "eval_strategy" in inspect.signature(TrainingArguments).parameters else "evaluation_strategy"
    schedule = {eval_key: "no", "save_strategy": "no"}
    if evaluate:
        schedule.update({eval_key: "steps", "eval_steps": job["evalEvery"]})
    if plan["keepBestCheckpoint"]:
        schedule.update({"save_strategy": "steps", "save_steps": job["evalEvery"], "save_total_limit": 2,
                         "load_best_model_at_end": True, "metric_for_best_model": "accuracy", "greater_is_better": True})
    training_args = TrainingArguments(
        output_dir=os.path.join(args.output_dir, "checkpoints"),
        num_train_epochs=plan["epochs"],
        per_device_train_batch_size=plan["perDeviceBatchSize"],
        per_device_eval_batch_size=max(plan["perDeviceBatchSize"], 32),
        gradient_accumulation_steps=plan["gradAccumSteps"],
        learning_rate=job["learningRate"],
        lr_scheduler_type="linear",
        warmup_steps=plan["warmupSteps"],
        weight_decay=job["weightDecay"],
        adam_beta1=job["adam"]["beta1"],
        adam_beta2=job["adam"]["beta2"],
        adam_epsilon=job["adam"]["epsilon"],
        max_grad_norm=job["maxGradNorm"] if job["maxGradNorm"] > 0 else 0.0,
        seed=job["seed"],
        logging_steps=1,
        fp16=args.fp16,
        bf16=args.bf16,
        remove_unused_columns=False,
        label_names=["labels"],
        report_to="none",
        **schedule,
    )
    callbacks = []
    if plan["earlyStoppingPatience"] > 0:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=plan["earlyStoppingPatience"]))
    trainer = JobTrainer(
        model=model,
        args=training_args,
        train_dataset=Rows(train_rows),
        eval_dataset=Rows(dev_rows) if evaluate else None,
        data_collator=collate,
        compute_metrics=compute_metrics,
        callbacks=callbacks,
    )
    started = time.time()
    result = trainer.train()
    final = trainer.evaluate() if evaluate else {}
    out = args.output_dir
    trainer.save_model(out)  # on every process: sharded (FSDP/DeepSpeed) saves need them all
    if not trainer.is_world_process_zero():
        return
    tokenizer.save_pretrained(out)
    config_path = os.path.join(out, "config.json")
    with open(config_path, encoding="utf-8") as f:
        config = json.load(f)
    config["id2label"] = {str(i): label for i, label in enumerate(labels)}
    config["label2id"] = label2id
    if prompt:
        config["architectures"] = ["BertForMaskedLM"]
        config["fewshot_prompt"] = {"template": job["prompt"]["template"], "verbalizer": job["prompt"]["verbalizer"]}
    with open(config_path, "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
    history = trainer.state.log_history
    evaluations = [{"step": h["step"], "epoch": h.get("epoch"), "accuracy": h["eval_accuracy"], "macroF1": h["eval_macro_f1"]}
                   for h in history if "eval_accuracy" in h]
    losses = [{"step": h["step"], "loss": h["loss"], "lr": h.get("learning_rate")} for h in history if "loss" in h]
    metrics = {
        "model": model_description,
        "method": job["method"],
        "prompt": job.get("prompt"),
        "labels": labels,
        "hyperparameters": {k: plan[k] for k in ("epochs", "perDeviceBatchSize", "processes", "effectiveBatchSize",
                                                  "gradAccumSteps", "learningRate", "warmupSteps", "weightDecay",
                                                  "maxGradNorm", "maxLength", "seed", "dropout", "classWeights", "precision")},
        "result": {
            "reason": "completed",
            "steps": result.global_step,
            "bestStep": int(trainer.state.best_model_checkpoint.rsplit("-", 1)[-1]) if trainer.state.best_model_checkpoint else None,
            "restored": "best" if plan["keepBestCheckpoint"] and trainer.state.best_model_checkpoint else "last",
            "seconds": time.time() - started,
        },
        "evaluations": evaluations,
        "dev": {"accuracy": final["eval_accuracy"], "macroF1": final["eval_macro_f1"], "rows": len(dev_rows)} if evaluate else None,
        "trainedWith": {"transformers": transformers.__version__, "torch": torch.__version__, "job": os.path.abspath(args.job)},
    }
    with open(os.path.join(out, "metrics.json"), "w", encoding="utf-8") as f:
        json.dump(metrics, f, indent=2)
    with open(os.path.join(out, "train_log.jsonl"), "w", encoding="utf-8") as f:
        for entry in losses:
            f.write(json.dumps(entry) + "\n")
    print(f"Saved the model, metrics.json and train_log.jsonl to {out}")
    if evaluate:
        print(f"dev accuracy {final['eval_accuracy']:.4f}, macro-F1 {final['eval_macro_f1']:.4f} on {len(dev_rows)} rows")


def main(argv=None):
    args = parse_args(argv)
    try:
        job = load_job(args.job)
        base = os.path.dirname(os.path.abspath(args.job))
        train_rows = read_rows(args.train_file or os.path.join(base, job["data"]["train"]), job, "training")
        dev_rows = read_rows(args.dev_file or os.path.join(base, job["data"]["dev"]), job, "dev")
        model_name, revision, description = resolve_model(job, args)
        plan = make_plan(job, args, len(train_rows), len(dev_rows))
        plan["model"] = description
        plan["outputDir"] = os.path.abspath(args.output_dir)
        if args.dry_run:
            print(json.dumps(plan, indent=2))
            return 0
        for note in plan["notes"]:
            print(f"note: {note}", file=sys.stderr)
        train(job, args, plan, train_rows, dev_rows, model_name, revision, description)
        return 0
    except JobError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
`;
